#!/bin/sh
# The image's entrypoint: one image, one role per container (docs/deploying.md).
#
#   web                 gunicorn with gunicorn.conf.py (binds 0.0.0.0:$PORT unless GUNICORN_BIND)
#   worker              the task worker: $WORKER_COMMAND, by default the database backend's
#                       `python manage.py db_worker --queue-name '*'`
#   migrate             python manage.py migrate --noinput (run once per release, before the others)
#   manage <command>    any management command: manage createsuperuser, manage seed_demo, ...
#   <anything else>     run as given (a shell for debugging: `bash`)
#
# Extra arguments after web, worker and migrate are passed to the command.
set -eu

role="${1:-web}"
if [ "$#" -gt 0 ]; then
    shift
fi

case "$role" in
    web)
        exec gunicorn -c /app/gunicorn.conf.py installer.wsgi "$@"
        ;;
    worker)
        # A shell command line, so that an operator can switch workers (another backend's) by
        # the environment alone; the extra arguments follow it.
        eval "exec ${WORKER_COMMAND:-python manage.py db_worker --queue-name \"*\"} \"\$@\""
        ;;
    migrate)
        exec python manage.py migrate --noinput "$@"
        ;;
    manage)
        exec python manage.py "$@"
        ;;
    *)
        exec "$role" "$@"
        ;;
esac
