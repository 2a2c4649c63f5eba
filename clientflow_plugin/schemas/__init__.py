"""Marshmallow schemas of ClientFlow's JSON API, one module per area.

They validate what callers send, shape what the API answers, and are the
source of the OpenAPI document (``openapi.py``).
"""
