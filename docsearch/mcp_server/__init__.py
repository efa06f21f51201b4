"""`docsearch mcp`: a Model Context Protocol server over the same Searcher as the CLI and TUI.

service.py  what the tools do, over one warm Searcher (no protocol here)
pages.py    sections and pages of the open index, for reading
budget.py   token estimates and cuts
render.py   the compact text beside each structured result
server.py   the protocol: the `mcp` SDK's MCPServer, tools, resources, stdio
"""

from __future__ import annotations

from docsearch.settings import Settings


def serve(settings: Settings) -> int:
    """Start loading the index and model, then serve: the SDK's import (most of the start-up
    time before the handshake can be answered) overlaps the loading instead of preceding it."""
    from docsearch.mcp_server.service import DocsService

    service = DocsService(settings)
    service.start()
    from docsearch.mcp_server.server import run

    return run(service)
