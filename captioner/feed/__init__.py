"""The caption feed: captions served to other apps over a local HTTP + WebSocket server.

``schema`` is the versioned message format (the records of ``captioner caption --format jsonl``, after a
``hello``); ``security`` decides who may connect (loopback by default, an access token beyond it, the
``Origin`` of WebSocket upgrades, limits); ``static`` serves the pages in ``pages/`` (the caption page for
an OBS browser source and the live transcript page); ``server`` runs it all on the asyncio loop. It consumes
caption events and transcript changes like any other view and never makes captioning wait.
"""
