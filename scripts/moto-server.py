#!/usr/bin/env python3
"""moto's DynamoDB emulator for the tests, serving one request at a time.

`moto_server` serves requests on threads, and moto's TransactWriteItems backs up whole tables
before a transaction and restores them when it is cancelled: a cancelled transaction running
next to another write silently undoes that write. DynamoDB itself has no such behaviour, so
the tests serialize moto's requests instead of tolerating lost writes.

Usage: moto-server.py HOST PORT
"""
import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

host, port = sys.argv[1], int(sys.argv[2])
run_simple(host, port, DomainDispatcherApplication(create_backend_app), threaded=False)
