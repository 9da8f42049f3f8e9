"""gunicorn's settings for Tenantry (read from the working directory by default).

The app is checked once in the master, before any worker boots: without SECRET_KEY, with
a malformed DATABASE_URL, or with a database that can't be reached or isn't migrated,
gunicorn exits at once with one line instead of booting workers that die forever.
"""


def on_starting(server):
    from app.startup import exit_unless_can_serve

    exit_unless_can_serve()
