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
}
