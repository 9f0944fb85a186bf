"""The WSGI target of `BARONG_SERVER=granian` (`barong.granian_app:app`, barong/serve.py):
the app of app.py in barong.granian_entry's wrapper. granian imports this in every worker."""
from app import app as flask_app  # app.py: create_app, then gc.freeze()
from barong.granian_entry import GranianEntry

app = GranianEntry(flask_app)
