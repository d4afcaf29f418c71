"""Kyodo's kernel: the app factory, database and tenancy, sign-in, jobs, pages and audit.

Modules (tenants, procurement, talent, academy) plug in through `kyodo.modules` entry points.
"""
