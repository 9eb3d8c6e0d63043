/**
 * The routes of the dashboard that `mmstruct serve` puts at `/`: the page, its script and
 * style sheet, and uPlot's, every one served from memory by the server itself. Internal.
 *
 * @module
 */

import { UPLOT_CSS, UPLOT_JS } from "./_dashboard_assets.ts";
import { DASHBOARD_CSS, DASHBOARD_ICON, DASHBOARD_JS, DASHBOARD_PATHS, dashboardHtml } from "./_dashboard_page.ts";
import { type Route, textResponse } from "./_routes.ts";

/**
 * Every resource of the page may come from the server only: a browser then refuses to
 * load or send anything elsewhere, whatever the page (or a metric's help text in it) says.
 */
export const DASHBOARD_CSP = "default-src 'self'";

function asset(body: string, contentType: string): Route {
  return (request) => {
    const response = textResponse(request, body, { contentType, gzip: true });
    response.headers.set("content-security-policy", DASHBOARD_CSP);
    response.headers.set("x-content-type-options", "nosniff");
    // Revalidated at each load: a newer mmstruct serves another page at the same path.
    response.headers.set("cache-control", "no-cache");
    return response;
  };
}

/** The dashboard's routes, for the metrics directory `dir` (undefined: the default one). */
export function dashboardRoutes(dir: string | undefined): Map<string, Route> {
  const js = "text/javascript; charset=utf-8";
  const css = "text/css; charset=utf-8";
  return new Map([
    [DASHBOARD_PATHS.page, asset(dashboardHtml(dir), "text/html; charset=utf-8")],
    [DASHBOARD_PATHS.script, asset(DASHBOARD_JS, js)],
    [DASHBOARD_PATHS.style, asset(DASHBOARD_CSS, css)],
    [DASHBOARD_PATHS.uplotScript, asset(UPLOT_JS, js)],
    [DASHBOARD_PATHS.uplotStyle, asset(UPLOT_CSS, css)],
    [DASHBOARD_PATHS.icon, asset(DASHBOARD_ICON, "image/svg+xml")],
  ]);
}
