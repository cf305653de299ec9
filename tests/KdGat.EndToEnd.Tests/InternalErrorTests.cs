using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// A bug in a KdGat task (simulated by KDGAT_TEST_INTERNAL_ERROR) reaches the console as one
/// KDG9001 line that says where the stack trace is, not as MSBuild's MSB4018 and its frames.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class InternalErrorTests
{
    [Fact]
    public void TaskThatThrows_IsKDG9001_WithTheStackTraceInACrashFile()
    {
        using var s = Sandbox.Trivial();
        s.Env["KDGAT_TEST_INTERNAL_ERROR"] = "KdGatPlan";

        var r = s.Build("-p:Dataset=hcrl_sa");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error KDG9001", r.Output);
        Assert.DoesNotContain("MSB4018", r.Output);
        Assert.DoesNotContain("   at ", r.Output);
        var crash = Assert.Single(Directory.GetFiles(Path.Combine(s.Dir, ".kdgat", "crash")));
        Assert.Contains(Path.GetFileName(crash), r.Output);
        var text = File.ReadAllText(crash);
        Assert.Contains("InvalidOperationException", text);
        Assert.Contains("   at ", text);
    }

    /// <summary>
    /// A tools folder without KdGat.Core, or with it cut off, as a CI cache restored in part leaves it
    /// (here with the bootstrap off, as with KdGat.Sdk or -p:KdGatToolsDir): one KDG1206 naming the
    /// folder, not MSBuild's MSB4018 and its stack trace, which the runtime threw before any of the
    /// task's handlers existed (a review).
    /// </summary>
    [Theory]
    [InlineData("missing")]
    [InlineData("cut off")]
    public void ToolsWithoutAWholeCore_AreKDG1206_NotAStackTrace(string damage)
    {
        using var s = Sandbox.Trivial();
        var tools = Path.Combine(Path.GetTempPath(), "kdgat-damaged-tools-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            Sandbox.CopyTree(Tools.Path, tools);
            var core = Path.Combine(tools, "KdGat.Core.dll");
            if (damage == "missing") File.Delete(core);
            else File.WriteAllBytes(core, File.ReadAllBytes(core)[..1000]);

            var r = s.Build("-p:Dataset=hcrl_sa", $"-p:KdGatToolsDir={tools}/");

            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("error KDG1206", r.Output);
            Assert.Contains(tools, r.Output);
            Assert.DoesNotContain("MSB4018", r.Output);
            Assert.DoesNotContain("   at ", r.Output);
            Assert.False(File.Exists(Path.Combine(s.Dir, ".kdgat", "last-build.json")));
        }
        finally
        {
            Directory.Delete(tools, recursive: true);
        }
    }
}
