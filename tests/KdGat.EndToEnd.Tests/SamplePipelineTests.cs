using System.Text.Json;
using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>The README's main command on the bundled sample stages and generated data.</summary>
[Trait("Category", "EndToEnd")]
public sealed class SamplePipelineTests
{
    [Fact]
    public void Evaluate_OnSampleData_ProducesMetrics_AndRebuildRunsNothing()
    {
        using var s = Sandbox.Sample();
        var r = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.Ran).Length);
        foreach (var eval in new[] { "eval_large_evaluation", "eval_small_evaluation_kd", "eval_small_evaluation" })
        {
            using var metrics = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(s.RunDir("hcrl_sa", eval), "metrics.json")));
            var f1 = metrics.RootElement.GetProperty("f1").GetDouble();
            Assert.InRange(f1, 0.0, 1.0);
        }

        var again = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
    }
}
