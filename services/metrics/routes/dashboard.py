"""The dashboard (decision 0041). `GET /dashboard` is a page with no data in it, served
without a token: markup, a style sheet and a few lines of script, all inline, nothing
from elsewhere. The script takes the leader's token from the address's fragment (never
sent to a server) or from what the leader pastes, keeps it in sessionStorage for the
tab, and fetches `GET /dashboard/charts` with it as a bearer token: the charts, drawn
here as SVG from the same protected release as `/v1/metrics`."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from shared.routes import Runtime

from ..charts import dashboard
from ..releases import release
from .deps import PROBLEMS, Leader, SuppressedRelease

router = APIRouter(tags=["dashboard"])
PAGE_PATH = "/dashboard"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Peerline: program dashboard</title>
<style>
body{font-family:system-ui,sans-serif;margin:.75rem;color:#1a202c;max-width:1200px;line-height:1.4}
h1{font-size:1.3rem;margin:.2rem 0} .lead{margin:.2rem 0;color:#4a5568}
form{margin:.5rem 0} input{width:24rem;max-width:100%} #status{color:#744210}
.scope{font-size:1.05rem;margin:.6rem 0 .2rem}
.key{list-style:none;padding:0;margin:.3rem 0 1rem;font-size:.9rem;color:#4a5568}
.key li{margin:.15rem 0} .key svg,.legend svg{vertical-align:-2px}
.key .dash{display:inline-block;width:14px;text-align:center;font-weight:700}
.charts{display:grid;gap:.8rem;grid-template-columns:repeat(auto-fill,minmax(min(100%,320px),1fr))}
.charts figure{margin:0;border:1px solid #cbd5e0;border-radius:8px;padding:.5rem .6rem;
background:#fff;min-width:0}
.charts figcaption{font-weight:600;font-size:.95rem;line-height:1.3;margin-bottom:.3rem}
.charts .when{display:block;font-weight:400;color:#4a5568;font-size:.85rem}
.charts figure>svg{display:block;width:100%;height:auto}
.legend{list-style:none;padding:0;margin:0 0 .3rem;display:flex;flex-wrap:wrap;
gap:.1rem .8rem;font-size:.85rem}
.chart-note{font-size:.85rem;color:#4a5568;margin:.3rem 0 0}
.charts details{font-size:.85rem;margin-top:.3rem}
.charts summary{cursor:pointer;color:#1b5e9f;min-height:24px;padding-top:.2rem}
.charts table{border-collapse:collapse;width:100%;margin:.3rem 0}
.charts caption{text-align:left;font-weight:600}
.charts th,.charts td{border:1px solid #e2e8f0;padding:.1rem .3rem;text-align:left}
.withheld{color:#744210} .empty{color:#4a5568;margin-top:1rem}
</style></head>
<body>
<h1>Peerline: is the program working?</h1>
<p class="lead">Anonymous figures only: no one can be singled out from them.</p>
<form id="signin" hidden><label>Access token <input id="token" type="password"
autocomplete="off"></label> <button>Show</button></form>
<p id="status">Loading…</p>
<div id="charts"></div>
<script>
(function () {
  var key = "peerline-token";
  var fragment = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fragment) {
    sessionStorage.setItem(key, fragment);
    history.replaceState(null, "", location.pathname + location.search);
  }
  var form = document.getElementById("signin");
  var status = document.getElementById("status");
  function load() {
    var token = sessionStorage.getItem(key);
    if (!token) { form.hidden = false; status.textContent = ""; return; }
    fetch("/dashboard/charts" + location.search,
          {headers: {Authorization: "Bearer " + token}})
      .then(function (r) {
        if (!r.ok) { throw new Error(r.status); }
        return r.text();
      })
      .then(function (html) {
        document.getElementById("charts").innerHTML = html;
        status.textContent = "";
        document.body.dataset.loaded = "yes";
      })
      .catch(function (e) {
        sessionStorage.removeItem(key);
        form.hidden = false;
        status.textContent = "Not allowed (" + e.message + "): paste a leadership token.";
      });
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    sessionStorage.setItem(key, document.getElementById("token").value.trim());
    form.hidden = true;
    load();
  });
  load();
})();
</script>
</body></html>
"""


@router.get(PAGE_PATH, response_class=HTMLResponse, summary="The dashboard page (no data)")
async def page() -> HTMLResponse:
    return HTMLResponse(PAGE, headers={"Cache-Control": "no-store"})


@router.get(
    "/dashboard/charts",
    response_class=HTMLResponse,
    responses=PROBLEMS,
    summary="The dashboard's charts as SVG, from the same release as /v1/metrics",
)
async def charts(caller: Leader, rt: Runtime, asked: SuppressedRelease) -> HTMLResponse:
    answer = await release(rt, caller, asked)
    return HTMLResponse(dashboard(answer), headers={"Cache-Control": "no-store"})
