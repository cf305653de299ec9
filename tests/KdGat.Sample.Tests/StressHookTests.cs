using System.Diagnostics;
using KdGat.Sample.Cli;

namespace KdGat.Sample.Tests;

[Trait("Category", "Unit")]
public sealed class StressHookTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void StressHooks_AllocatesRequestedMegabytes()
    {
        using var hooks = StressHooks.Apply(name => name == StressHooks.AllocVariable ? "3" : null);

        Assert.Equal(3L << 20, hooks.AllocatedBytes);
    }

    [Fact]
    public void StressHooks_SleepsBeforeWorking()
    {
        var watch = Stopwatch.StartNew();

        var r = _ws.RunWithEnv(name => name == StressHooks.SleepVariable ? "300" : null, "generate", "--dataset", "hcrl_sa", "--out", _ws["raw"]);

        Assert.Equal(0, r.ExitCode);
        Assert.True(watch.ElapsedMilliseconds >= 290, $"took {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void StressHooks_BadValue_Exits2NamingTheVariable()
    {
        var r = _ws.RunWithEnv(name => name == StressHooks.AllocVariable ? "lots" : null, "generate", "--dataset", "hcrl_sa", "--out", _ws["raw"]);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains(StressHooks.AllocVariable, r.Stderr);
        Assert.False(Directory.Exists(_ws["raw"]));
    }
}
