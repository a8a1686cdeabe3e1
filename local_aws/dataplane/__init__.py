"""The local data plane: what AWS runs for the stack, emulated on this machine.

The local AWS endpoint (moto) holds the control plane: it records instances, target groups and
distributions but runs nothing. This package makes those records real on 127.0.0.0/8:

- ``instances``: every running instance of the stack's Auto Scaling group is a podman container
  (systemd, host network) named after its instance id; user data runs at first boot.
- ``balancer``: HAProxy rendered from the target group (registered targets, health check) and the
  listener rule that requires the secret origin header.
- ``edge``: NGINX rendered from the CloudFront distribution (origins, behaviors, TTLs, cache keys),
  purged by the invalidations created on the endpoint.
- ``origin_access``: signs the edge's requests to the private bucket, like Origin Access Control.

``agent`` ties them together in one reconcile pass, run in a loop by a background process.
"""
