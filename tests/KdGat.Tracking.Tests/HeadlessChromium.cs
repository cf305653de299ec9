using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using KdGat.Testing;

namespace KdGat.Tracking.Tests;

/// <summary>
/// One headless Chromium with one tab, driven over the DevTools protocol (a WebSocket on
/// 127.0.0.1, port chosen by Chromium): the test loads a page once and then only reads the DOM
/// with Runtime.evaluate, never navigates again, so whatever changes came from the page itself.
/// </summary>
internal sealed class HeadlessChromium : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;
    private readonly ClientWebSocket _ws = new();
    private int _id;

    /// <summary>$KDGAT_CHROMIUM, else chromium (Debian) or Chrome on PATH; null when none.</summary>
    public static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("KDGAT_CHROMIUM");
        if (!string.IsNullOrEmpty(env) && File.Exists(env)) return env;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
            foreach (var name in new[] { "chromium", "chromium-browser", "google-chrome-stable", "google-chrome" })
                if (dir.Length > 0 && File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        return null;
    }

    /// <summary>The chromium to use; null (with a note) when there is none and this is not CI; fails under CI=true.</summary>
    public static string? Require(Xunit.Abstractions.ITestOutputHelper output)
    {
        var chromium = Find();
        if (chromium is not null) return chromium;
        Xunit.Assert.False(Environment.GetEnvironmentVariable("CI") == "true",
            "chromium is not installed; CI must run scripts/chromium/ensure-chromium.sh before the tests.");
        output.WriteLine("chromium not installed: browser test not run (scripts/chromium/ensure-chromium.sh installs it)");
        return null;
    }

    private HeadlessChromium(Process process, StringBuilder output)
    {
        _process = process;
        _output = output;
    }

    public static HeadlessChromium Open(string chromium, string profileDir, string file)
    {
        Directory.CreateDirectory(profileDir);
        var p = ProcessRunner.Start(chromium,
            ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--force-device-scale-factor=1", "--window-size=1300,1600",
             $"--user-data-dir={profileDir}", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", new Uri(file).AbsoluteUri],
            profileDir, null, out var output);
        var c = new HeadlessChromium(p, output);
        try
        {
            c.Connect(Path.Combine(profileDir, "DevToolsActivePort"));
            return c;
        }
        catch
        {
            c.Dispose();
            throw;
        }
    }

    private void Connect(string portFile)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var connected = false;
        if (!Eventually.Within(TimeSpan.FromSeconds(60), () => _process.HasExited || (connected = TryConnect(portFile, http)), TimeSpan.FromMilliseconds(100)))
            throw new TimeoutException($"no DevTools page target within 60 s:\n{Output}");
        if (!connected) throw new InvalidOperationException($"chromium exited ({_process.ExitCode}):\n{Output}");
    }

    /// <summary>Connects to the page target once Chromium has written its port and opened the page; false: not yet.</summary>
    private bool TryConnect(string portFile, HttpClient http)
    {
        if (!File.Exists(portFile) || File.ReadAllLines(portFile) is not [var port, ..] || port.Length == 0) return false;
        try
        {
            var list = JsonDocument.Parse(http.GetStringAsync($"http://127.0.0.1:{port}/json/list").GetAwaiter().GetResult());
            var page = list.RootElement.EnumerateArray().FirstOrDefault(t => t.GetProperty("type").GetString() == "page" && t.TryGetProperty("webSocketDebuggerUrl", out _));
            if (page.ValueKind != JsonValueKind.Object) return false;
            _ws.ConnectAsync(new Uri(page.GetProperty("webSocketDebuggerUrl").GetString()!), CancellationToken.None).GetAwaiter().GetResult();
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or TaskCanceledException) { return false; }
    }

    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>The value of a JavaScript expression in the page (JSON), or null when it threw or the page was between loads.</summary>
    public JsonElement? Evaluate(string expression)
    {
        var id = ++_id;
        var request = JsonSerializer.SerializeToUtf8Bytes(new { id, method = "Runtime.evaluate", @params = new { expression, returnByValue = true } });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        _ws.SendAsync(request, WebSocketMessageType.Text, true, timeout.Token).GetAwaiter().GetResult();
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult r;
            do
            {
                r = _ws.ReceiveAsync(buffer, timeout.Token).GetAwaiter().GetResult();
                message.Write(buffer, 0, r.Count);
            } while (!r.EndOfMessage);
            using var doc = JsonDocument.Parse(message.ToArray());
            if (!doc.RootElement.TryGetProperty("id", out var got) || got.GetInt32() != id) continue; // an event
            if (!doc.RootElement.TryGetProperty("result", out var result) || result.TryGetProperty("exceptionDetails", out _)) return null;
            return result.GetProperty("result").TryGetProperty("value", out var value) ? value.Clone() : null;
        }
    }

    /// <summary>Evaluates until the value satisfies <paramref name="ok"/> (a deadline, no fixed sleep); returns it.</summary>
    public JsonElement WaitFor(string expression, Func<JsonElement, bool> ok, string what, TimeSpan? within = null)
    {
        JsonElement? last = null;
        if (Eventually.Within(within ?? TimeSpan.FromSeconds(90), () => (last = Evaluate(expression)) is { } v && ok(v), TimeSpan.FromMilliseconds(100)))
            return last!.Value;
        throw new Xunit.Sdk.XunitException($"timed out waiting for {what}; last value {last?.GetRawText() ?? "(none)"}\nchromium:\n{Output}");
    }

    public void Dispose()
    {
        try { _ws.Abort(); } catch (ObjectDisposedException) { }
        _ws.Dispose();
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process.WaitForExit(10_000);
        _process.Dispose();
    }
}
