using KdGat.Testing;
using Xunit;

namespace KdGat.Tracking.Tests;

/// <summary>
/// What only the targets show: the default variants' *DependsOn lists name targets, and the
/// KdGatStageDefinition items reach the task. A stage with a target of its own (StageTarget=, the
/// README's pattern) made the default 'large' variant an all-'-' column, and a misspelt KdGatVariant
/// one too, both without a word (a review).
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class VariantStagesEndToEndTests
{
    [Fact]
    public void LargeDependsOnNamingAStageTarget_ComparesThatStage_AndAMisspeltVariantIsKdg5027()
    {
        using var s = TrackingSandbox.Create();
        var project = Path.Combine(s.Dir, "pipeline.proj");
        var original = File.ReadAllText(project);
        var renamed = original
            .Replace("<KdGatStageDefinition Include=\"eval_large_evaluation;eval_small_evaluation_kd;eval_small_evaluation\" />",
                "<KdGatStageDefinition Include=\"eval_large_evaluation\" StageTarget=\"eval_large_target\" />\n    <KdGatStageDefinition Include=\"eval_small_evaluation_kd;eval_small_evaluation\" />")
            .Replace("<LargeDependsOn>eval_large_evaluation</LargeDependsOn>", "<LargeDependsOn>eval_large_target</LargeDependsOn>")
            .Replace("<Target Name=\"eval_large_evaluation\"", "<Target Name=\"eval_large_target\"");
        Assert.NotEqual(original, renamed);
        File.WriteAllText(project, renamed);
        s.Ok("-t:Evaluate", "-p:Dataset=hcrl_sa");

        var compare = s.Ok("-t:Compare", "-p:Dataset=hcrl_sa", "-p:Metrics=f1");
        Assert.Matches(@"hcrl_sa\s+f1\s+0\.5\s+0\.5\s+0\.5", compare.Output); // large was '-'
        Assert.DoesNotContain("KDG5027", compare.Output);

        File.WriteAllText(project, renamed.Replace("  <PropertyGroup>\n    <PreprocessDependsOn>",
            "  <ItemGroup>\n    <KdGatVariant Include=\"large\" Stages=\"eval_large_evalution\" />\n  </ItemGroup>\n  <PropertyGroup>\n    <PreprocessDependsOn>"));
        var typo = s.Build("-t:Compare", "-p:Dataset=hcrl_sa");
        Assert.NotEqual(0, typo.ExitCode);
        var lines = File.ReadAllLines(project);
        var line = Array.FindIndex(lines, l => l.Contains("<KdGatVariant Include=\"large\"", StringComparison.Ordinal)) + 1;
        Assert.Contains($"pipeline.proj({line},5): error KDG5027", typo.Output);
        Assert.Contains("'eval_large_evalution'", typo.Output);
        Assert.Contains("Did you mean 'eval_large_evaluation'?", typo.Output);
        Assert.DoesNotContain("   at ", typo.Output);

        var status = s.Build("-t:Status", "-p:Dataset=hcrl_sa"); // its table does not depend on variants
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("warning KDG5027", status.Output);
    }
}
