"""The portal's settings plus the benchmark's reference view (bench/reference.py)."""

from portail.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_reference"
