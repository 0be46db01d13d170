"""Web front end: the chat at "/" and the staff citation review at "/review" (Gradio).

Importing any ``ui`` module sets the offline/no-telemetry environment first, so that
Gradio (imported by ``ui.app``, ``ui.chat`` and ``ui.review``) never phones home.
"""

import os

OFFLINE_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}
os.environ.update(OFFLINE_ENV)
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
