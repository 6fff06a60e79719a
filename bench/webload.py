"""First page load of the portal, as a citizen's browser sees it: Debian's Chromium (driven by
Playwright) opens the website on the whole local stack with an empty cache, until the guide's
search field is ready for input. Counted, not timed: requests made and bytes transferred
(response bodies and headers as they came over the wire)."""
from __future__ import annotations

import tempfile
from pathlib import Path

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
READY = "input[type=search]"


def run() -> dict:
    from playwright.sync_api import sync_playwright

    from local.process import running_stack

    with tempfile.TemporaryDirectory() as state, running_stack(Path(state)) as stack, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
        results = []
        for viewport in ({"width": 1280, "height": 800}, {"width": 375, "height": 740}):
            page = browser.new_context(viewport=viewport).new_page()
            client = page.context.new_cdp_session(page)
            client.send("Network.enable")
            sizes: dict[str, int] = {}
            client.on("Network.loadingFinished",
                      lambda event: sizes.__setitem__(event["requestId"],
                                                      int(event["encodedDataLength"])))
            urls: list[str] = []
            page.on("request", lambda request: urls.append(request.url))
            page.goto(stack["web_url"] + "/")
            page.wait_for_selector(READY, state="visible")
            page.wait_for_load_state("networkidle")
            outside = [u for u in urls if not u.startswith(stack["web_url"])]
            results.append({"viewport": f"{viewport['width']}x{viewport['height']}",
                            "requests": len(urls), "bytes": sum(sizes.values()),
                            "requests_outside_the_site": len(outside)})
            page.context.close()
        browser.close()
    worst = {"requests": max(r["requests"] for r in results),
             "bytes": max(r["bytes"] for r in results)}
    return {"loads": results, **worst, "goal": "< 300 KB and < 15 requests",
            "met": worst["bytes"] < 300 * 1024 and worst["requests"] < 15}
