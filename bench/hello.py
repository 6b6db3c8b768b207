"""The stack's limit: a hello-world Flask app served by the same gunicorn settings as Kohtaamo
(`gunicorn -c gunicorn.conf.py bench.hello:app`)."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, world!"


@app.get("/healthz")
def healthz():
    return "ok"
