using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;
using Xunit.Abstractions;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// examples/kd-gat (the KD-GAT pipeline for a Python repository, on KdGat.Sdk) built as it is,
/// with a stand-in `python` on PATH that checks each `python -m pipeline.cli VERB ...` call gets
/// what it reads (the graph cache, upstream and teacher models) and writes what the stage declares.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // the stand-in interpreter is a shell script
[Trait("Category", "EndToEnd")]
public sealed class ExampleTests(ITestOutputHelper output)
{
    private const string StandInPython = """
        #!/bin/sh
        # Stand-in for `python -m pipeline.cli VERB --opt value ...`.
        [ "$1" = -m ] && [ "$2" = pipeline.cli ] || { echo "stand-in python: unexpected call: $*" >&2; exit 2; }
        verb=$3; shift 3; out=
        while [ $# -gt 0 ]; do
          case $1 in
            --out) out=$2 ;;
            --cache) [ -f "$2/graphs.bin" ] || { echo "stand-in python: no graph cache in $2" >&2; exit 3; } ;;
            --vgae|--gat|--dqn|--teacher) [ -f "$2/model.ckpt" ] || { echo "stand-in python: no model in $2 ($1)" >&2; exit 3; } ;;
            --raw) ls "$2"/*.csv > /dev/null || exit 3 ;;
          esac
          shift 2
        done
        [ -n "$out" ] || { echo "stand-in python: no --out" >&2; exit 2; }
        case $verb in
          preprocess) mkdir -p "$out" && echo graphs > "$out/graphs.bin" ;;
          evaluate) echo '{"f1": 0.9}' > "$out/metrics.json" ;;
          autoencoder|curriculum|fusion) echo "$verb" > "$out/model.ckpt" && echo '{}' > "$out/train_log.json" ;;
          *) echo "stand-in python: unknown verb $verb" >&2; exit 2 ;;
        esac
        """;

    [Fact]
    public void The_kd_gat_example_builds_all_13_stages_with_its_python_commands_then_nothing()
    {
        using var repo = SdkRepo.FromExample("kd-gat");
        repo.Write("data/automotive/hcrl_sa/capture_01.csv", "timestamp,arbitration_id,data_field,attack\n0.0,1A0,00FF,0\n");
        repo.Write("pipeline/cli.py", "# the researcher's entry point\n");
        repo.Write("bin/python", StandInPython.Replace("\r", ""));
        File.SetUnixFileMode(Path.Combine(repo.Dir, "bin", "python"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        repo.Env["PATH"] = Path.Combine(repo.Dir, "bin") + ":" + Environment.GetEnvironmentVariable("PATH");

        var first = repo.Build("-p:Dataset=hcrl_sa");
        output.WriteLine(first.ToString());
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(13, Sandbox.With(repo.LastBuild(), Outcome.Ran).Length);
        Assert.True(File.Exists(Path.Combine(repo.RunDir("eval_small_evaluation_kd", "hcrl_sa"), "metrics.json")));

        var second = repo.Build("-p:Dataset=hcrl_sa");
        Assert.Equal(0, second.ExitCode);
        Assert.Equal(13, Sandbox.With(repo.LastBuild(), Outcome.UpToDate).Length);

        // The Python code is fingerprinted (defaults.code): an edit reruns every stage.
        repo.Write("pipeline/cli.py", "# the researcher's entry point, edited\n");
        Assert.Equal(0, repo.Build("-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(13, Sandbox.With(repo.LastBuild(), Outcome.Ran).Length);
    }
}
