"""Extension objects shared by the host and, through the SDK, by plugins."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_principal import Principal
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Explicit constraint names keep Alembic migrations identical on SQLite and
# PostgreSQL and make them reversible.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
login_manager = LoginManager()
principal = Principal(use_sessions=False, skip_static=True)
csrf = CSRFProtect()
babel = Babel()
