"""WTForms forms of ClientFlow, one module per area."""
