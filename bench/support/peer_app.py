# The peer for bench/peer.js: flask-s3-viewer (PyPI) on the bench's SeaweedFS, served by gunicorn.
# Two namespaces on the same bucket and folder: `cold` lists from S3 on every request, `warm` uses the
# package's own listing cache (use_cache, a disk cache under PEER_CACHE_DIR, ttl 300 s).
# Configured from the environment: PEER_ENDPOINT, PEER_REGION, PEER_BUCKET, PEER_ACCESS_KEY,
# PEER_SECRET_KEY, PEER_CACHE_DIR.
import os

from flask import Flask
from flask_s3_viewer import FlaskS3Viewer

app = Flask(__name__)

base = {
    'endpoint_url': os.environ['PEER_ENDPOINT'],
    'region_name': os.environ.get('PEER_REGION', 'us-east-1'),
    'bucket_name': os.environ['PEER_BUCKET'],
    'access_key': os.environ['PEER_ACCESS_KEY'],
    'secret_key': os.environ['PEER_SECRET_KEY'],
}

FlaskS3Viewer(app, namespace='cold', config=dict(base))
FlaskS3Viewer(app, namespace='warm', config=dict(base, use_cache=True, cache_dir=os.environ['PEER_CACHE_DIR'], ttl=300))
