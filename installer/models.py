"""No models: this module exists so that `post_migrate` is sent for the installer app
(Django skips apps without a models module), see installer/apps.py."""
