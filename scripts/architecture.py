"""Draw the stack on AWS and its local counterpart, side by side, from one description.

    make diagram        # = python scripts/architecture.py (needs Debian's graphviz: `dot`)

Writes docs/architecture.dot and docs/architecture.svg. Each part of the request path is listed
once with its AWS form and its local form, so the two pictures cannot drift apart.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# (node id, AWS label, local label, shape)
PARTS = [
    ("viewer", "viewer\n(browser, API client)", "viewer\n(browser, curl)", "oval"),
    (
        "cdn",
        "CloudFront distribution\nbehaviors, TTLs, invalidations",
        "edge: NGINX proxy_cache\n127.0.0.1:8080",
        "box",
    ),
    (
        "bucket",
        "S3 bucket (private)\nOrigin Access Control",
        "S3 API of the local endpoint\n(+ origin access signer :8082)",
        "cylinder",
    ),
    ("alb", "ALB (public subnets)\nheader rule, else 403", "HAProxy 127.0.0.1:8081\nheader rule, else 403", "box"),
    (
        "asg",
        "Auto Scaling group (private subnets)\nmin 2, max 4, CPU target 50 %",
        "podman containers, one per instance id\nhost network, 127.a.b.c",
        "box3d",
    ),
    ("app", "NGINX -> gunicorn -> image API", "NGINX -> gunicorn -> image API", "component"),
    ("table", "DynamoDB catalog table", "DynamoDB API of the local endpoint", "cylinder"),
    ("control", "AWS APIs", "moto server 127.0.0.1:5000\n(+ project fixes)", "note"),
]
EDGES = [
    ("viewer", "cdn", ""),
    ("cdn", "bucket", "/images/*"),
    ("cdn", "alb", "/, /api/*, /img/*, /image/*\n+ secret origin header"),
    ("alb", "asg", "GET /healthz checks"),
    ("asg", "app", ""),
    ("app", "table", "catalog"),
    ("app", "bucket", "originals"),
]  # fmt: skip


def cluster(name: str, title: str, column: int, colour: str) -> list[str]:
    lines = [f"  subgraph cluster_{name} {{", f'    label="{title}"; style="rounded,filled"; fillcolor="{colour}";']
    for node, *labels, shape in PARTS:
        label = labels[column].replace("\n", "\\n")
        lines.append(f'    {name}_{node} [label="{label}", shape={shape}, style=filled, fillcolor=white];')
    for source, target, label in EDGES:
        lines.append(f'    {name}_{source} -> {name}_{target} [label="{label.replace(chr(10), chr(92) + "n")}"];')
    lines.append(f'    {name}_control -> {name}_asg [style=dashed, label="site.yml via Ansible"];')
    return [*lines, "  }"]


def dot_source() -> str:
    header = ['digraph image_delivery {', '  rankdir=TB; fontname="Helvetica"; fontsize=14; compound=true;',
              '  node [fontname="Helvetica", fontsize=11]; edge [fontname="Helvetica", fontsize=9];']  # fmt: skip
    body = cluster("aws", "On AWS (inventory/aws.yml)", 0, "#fdf3e1") + cluster(
        "local", "On one machine, the embedded default (inventory/local.yml)", 1, "#e8f1fb"
    )
    return "\n".join([*header, *body, "}"]) + "\n"


def main() -> int:
    docs = PROJECT_ROOT / "docs"
    source = docs / "architecture.dot"
    source.write_text(dot_source())
    subprocess.run(["dot", "-Tsvg", str(source), "-o", str(docs / "architecture.svg")], check=True)
    print(f"wrote {source} and {docs / 'architecture.svg'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
