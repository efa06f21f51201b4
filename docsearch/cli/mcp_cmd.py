"""`docsearch mcp`: the Model Context Protocol server (docsearch/mcp_server), over stdio."""

from __future__ import annotations

import argparse

from docsearch.cli.common import settings_from


def run_mcp(args: argparse.Namespace) -> int:
    # Settings are resolved (and a bad one refused) before the SDK is imported.
    settings = settings_from(args, mcp_token_budget=args.token_budget)
    from docsearch.mcp_server import serve

    return serve(settings)
