namespace KdGat.Core.Tracking;

/// <summary>
/// The frame both HTML reports share (the tracking report of -t:Report/-t:Status and the live
/// report a build rewrites): head with the styles, an optional self-reload, and the closing script.
/// </summary>
internal static class ReportPage
{
    /// <summary>Colours the browser tests look for: keep them unique to their element.</summary>
    public const string RanColor = "#2e7d32", FailedColor = "#c62828", OtherColor = "#9e9e9e", RunningColor = "#f9a825", MetricsHeaderColor = "#1565c0";

    /// <param name="reloadSeconds">Reload the page this often (a live report while something runs); 0: never.
    /// A meta refresh, not a script that fetches: browsers refuse fetch() on file://, and the report is opened
    /// as a file from a cluster portal's file browser.</param>
    public static string Head(string title, int reloadSeconds) =>
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n" +
        (reloadSeconds > 0 ? $"<meta http-equiv=\"refresh\" content=\"{reloadSeconds}\">\n" : "") +
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" +
        $"<title>{System.Net.WebUtility.HtmlEncode(title)}</title>\n<style>\n" +
        "body{font-family:DejaVu Sans,Arial,sans-serif;margin:16px 24px;color:#212121;background:#fff}\n" +
        "h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:24px 0 8px;border-bottom:1px solid #ddd}\n" +
        "h3{font-size:15px;margin:16px 0 6px} .muted{color:#616161;font-size:12px}\n" +
        "table{border-collapse:collapse;font-size:13px;margin:4px 0 12px}\n" +
        "th,td{border:1px solid #cfd8dc;padding:3px 8px;text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums}\n" +
        "table.runs th{background:#eceff1}\n" +
        $"table.metrics th{{background:{MetricsHeaderColor};color:#fff}} table.metrics td.best{{font-weight:bold}}\n" +
        $".state-ran{{color:{RanColor}}} .state-failed,.state-cancelled{{color:{FailedColor}}} svg.timeline text{{font-size:11px;fill:#212121}}\n" +
        ".graph{overflow-x:auto;margin:4px 0 12px} .curves{display:flex;flex-wrap:wrap;gap:8px;margin:4px 0 10px} svg.curve text{fill:#212121}\n" +
        ".live{display:inline-block;padding:2px 8px;border-radius:10px;background:#fff176;font-size:12px} .done{display:inline-block;padding:2px 8px;border-radius:10px;background:#c8e6c9;font-size:12px}\n" +
        "</style></head><body>\n";

    /// <summary>
    /// Times in the reader's zone; across self-reloads the scroll position is kept and the loads
    /// are counted (data-loads, per tab), so a test can tell a self-reload from a fresh load.
    /// The page is complete without the script.
    /// </summary>
    public const string Foot = """
        <script>
        (function () {
          var key = 'kdgat-report:' + location.pathname, loads = 1;
          try {
            loads = (parseInt(sessionStorage.getItem(key + ':loads') || '0', 10) || 0) + 1;
            sessionStorage.setItem(key + ':loads', String(loads));
            var y = parseInt(sessionStorage.getItem(key + ':y') || '0', 10);
            if (y > 0) window.scrollTo(0, y);
            window.addEventListener('scroll', function () { sessionStorage.setItem(key + ':y', String(Math.round(window.scrollY))); }, { passive: true });
          } catch (e) { /* storage refused: reloads still work, from the top */ }
          document.documentElement.setAttribute('data-loads', String(loads));
          document.querySelectorAll('time[data-utc]').forEach(function (el) {
            var d = new Date(el.getAttribute('data-utc'));
            if (!isNaN(d.getTime())) el.title = d.toLocaleString();
          });
          document.documentElement.setAttribute('data-rendered', 'ok');
        })();
        </script>
        </body></html>

        """;
}
