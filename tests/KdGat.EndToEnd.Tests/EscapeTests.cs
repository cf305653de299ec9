using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// Through real `dotnet msbuild`: YAML that YamlDotNet fails on with an InvalidOperationException
/// (an unclosed '[') is a KDG error with file(line,col), and Clean never deletes outside the
/// pipeline's outputs (the repository's files, another dataset's raw data) whatever is selected.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class EscapeTests
{
    private static void NoTrace(ProcessResult r)
    {
        Assert.DoesNotContain("MSB4018", r.Output);
        Assert.DoesNotContain("KDG9001", r.Output);
        Assert.DoesNotContain("   at ", r.Output);
        Assert.DoesNotContain("Exception", r.Output);
    }

    /// <summary>
    /// A clone whose path has characters MSBuild escapes (';', '$', '(', ')', '@', '\'', ','): its
    /// tools folder (the default, under the clone) could not be loaded (MSB4062 for '/tmp/a%3bb/...',
    /// found by review). '%' itself MSBuild cannot take in a project path.
    /// </summary>
    [Fact]
    public void AClonePath_WithCharactersMSBuildEscapes_LoadsItsTools()
    {
        using var s = Sandbox.Trivial();
        var odd = Path.Combine(Path.GetTempPath(), $"kdgat-e2e-{Guid.NewGuid():N} a;b$(c)@d'e,f");
        try
        {
            Sandbox.CopyTree(s.Dir, odd);
            Sandbox.CopyTree(Tools.Path, Path.Combine(odd, ".kdgat", "tools"));

            var r = ProcessRunner.Run("dotnet", ["msbuild", "pipeline.proj", "-nologo", "-v:m", "-p:KdGatSkipBootstrap=true", "-p:Dataset=hcrl_sa"], odd, TimeSpan.FromMinutes(5), s.Env);

            Assert.True(r.ExitCode == 0, r.ToString());
            NoTrace(r);
            Assert.DoesNotContain("MSB4062", r.Output);
            Assert.True(File.Exists(Path.Combine(odd, "experimentruns", "hcrl_sa", "eval_large_evaluation", "metrics.json")));
        }
        finally { Directory.Delete(odd, recursive: true); }
    }

    [Fact]
    public void UnclosedBracket_InConfigOrParamsFile_IsAKdgErrorWithPosition()
    {
        using var s = Sandbox.Trivial();
        var config = File.ReadAllText(s.Config);
        s.EditConfig(c => c.Replace("datasets: [hcrl_sa, hcrl_ch, set_01, set_02, set_03, set_04]", "datasets: [hcrl_sa, hcrl_ch, set_01, set_02, set_03, set_04"));

        var r = s.Build("-p:Dataset=hcrl_sa");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Matches(@"kdgat\.yaml\(\d+,\d+\): error KDG1002", r.Output);
        NoTrace(r);

        File.WriteAllText(s.Config, config);
        var gat = Path.Combine(s.Dir, "models", "gat", "large.yaml");
        File.WriteAllText(gat, File.ReadAllText(gat).Replace("lr: 0.001", "lr: [0.001"));
        r = s.Build("-p:Dataset=hcrl_sa");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Matches(@"large\.yaml\(\d+,\d+\): error KDG1009", r.Output);
        NoTrace(r);
    }

    [Theory]
    [InlineData("'{root}/models'", "models/gat/large.yaml")]                                 // the repository's own files
    [InlineData("'{root}/data/automotive/hcrl_ch'", "data/automotive/hcrl_ch/frames.csv")]   // another dataset's raw data
    public void Clean_OfOneDataset_WithAnOutputOutsideThePipeline_RefusesAndDeletesNothing(string output, string kept)
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=\"hcrl_sa hcrl_ch\"", "-t:Preprocess").ExitCode);
        s.EditConfig(c => c.Replace("outputs: [metrics.json]\n    resources: { mem: 4G, time: '00:20:00' }\n  eval_small_evaluation_kd:",
            $"outputs: [metrics.json, {output}]\n    resources: {{ mem: 4G, time: '00:20:00' }}\n  eval_small_evaluation_kd:"));

        var r = s.Build("-t:Clean", "-p:Dataset=hcrl_sa");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error KDG1204", r.Output);
        Assert.Contains("eval_large_evaluation", r.Output);
        NoTrace(r);
        Assert.True(File.Exists(Path.Combine(s.Dir, kept)), kept + " was deleted");
    }

    [Theory]
    [InlineData("ln -s .. up", "error KDG1016")]   // a symlink cycle: used to walk without end, memory growing
    [InlineData("mkfifo pipe", "error KDG1015")]   // a FIFO: hashing it used to block forever
    public void RawDataDirectory_WithACycleOrAFifo_IsAKdgError_AndReturns(string make, string error)
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa", "-t:Preprocess").ExitCode);
        var raw = Path.GetDirectoryName(s.RawFile("hcrl_sa"))!;
        Assert.Equal(0, ProcessRunner.Run("sh", ["-c", make], raw).ExitCode);

        var r = s.MSBuild(["-p:Dataset=hcrl_sa"], TimeSpan.FromMinutes(3));

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(error, r.Output);
        // At the stage that declares the directory, not only the path (a hostile-input pass).
        Assert.Matches(@"kdgat\.yaml\(\d+,\d+\): " + error, r.Output);
        Assert.Contains("hcrl_sa/preprocess (its inputs or code)", r.Output);
        NoTrace(r);
    }
}
