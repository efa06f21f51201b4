"""`docsearch mcp`: a Model Context Protocol server over the same Searcher as the CLI and TUI.

service.py  what the tools do (no protocol here), over the one Searcher they use
            (search/warm.py: loaded in the background, reopened on a new commit)
pages.py    sections and pages of the open index, for reading
budget.py   token estimates and cuts
render.py   the compact text beside each structured result
server.py   the protocol: the `mcp` SDK's MCPServer, tools, resources, stdio
"""

from __future__ import annotations

from docsearch.settings import Settings


def serve(settings: Settings) -> int:
    """Serve over stdio until the client closes stdin."""
    from docsearch.mcp_server.server import build_server, run
    from docsearch.mcp_server.service import DocsService

    service = DocsService(settings)
    server = build_server(service)
    # The index and model load on a thread from here on, while the handshake is answered.
    # Not earlier: that thread's imports (lance, onnxruntime) would share the interpreter with
    # the SDK's own import, which is most of the time before `initialize` can be answered,
    # and slow it down threefold.
    service.start()
    return run(server, service)
