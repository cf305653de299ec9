using KdGat.Core.Engine;

namespace KdGat.Testing;

/// <summary>
/// A user's repository outside this one, as the README's quick start makes it: global.json
/// (msbuild-sdks), nuget.config (the folder feed of <see cref="SdkPackage"/> only), pipeline.proj
/// with Sdk="KdGat.Sdk" and kdgat.yaml. <see cref="Create"/>'s three stages are shell scripts of
/// its own: preprocess copies the raw CSV, train writes a model from it and its params, evaluate
/// writes metrics.json. <see cref="FromExample"/> copies one of examples/. Builds pass no KdGat
/// property: the tasks must come from the package.
/// </summary>
public sealed class SdkRepo : IDisposable
{
    public const string Dataset = "d1";

    private SdkRepo(string dir) => Dir = dir;

    public string Dir { get; }
    /// <summary>Environment for every build (besides the private NUGET_PACKAGES).</summary>
    public Dictionary<string, string> Env { get; } = new();
    public string RawFile => Path.Combine(Dir, "data", "raw", Dataset, "frames.csv");
    public string RunDir(string stage, string dataset = Dataset) => Path.Combine(Dir, "experimentruns", dataset, stage);

    /// <summary>A copy of examples/<paramref name="name"/> whose global.json and nuget.config name the test package.</summary>
    public static SdkRepo FromExample(string name)
    {
        var r = New();
        Sandbox.CopyTree(Path.Combine(Repo.Root, "examples", name), r.Dir);
        return r.UsePackage();
    }

    /// <summary>global.json and nuget.config naming the test package, nothing else.</summary>
    public static SdkRepo Bare() => New().UsePackage();

    public static SdkRepo Create()
    {
        var r = New().UsePackage();
        r.Write("pipeline.proj", """
            <Project Sdk="KdGat.Sdk">
              <PropertyGroup>
                <EvaluateDependsOn>evaluate_stage</EvaluateDependsOn>
              </PropertyGroup>
              <Target Name="preprocess_stage">
                <ItemGroup><KdGatStage Include="preprocess" /></ItemGroup>
              </Target>
              <Target Name="train_stage" DependsOnTargets="preprocess_stage">
                <ItemGroup><KdGatStage Include="train" Needs="preprocess" /></ItemGroup>
              </Target>
              <Target Name="evaluate_stage" DependsOnTargets="train_stage">
                <ItemGroup><KdGatStage Include="evaluate" Needs="train" /></ItemGroup>
              </Target>
            </Project>
            """);
        r.Write("kdgat.yaml", $$"""
            datasets: [{{Dataset}}]
            paths:
              raw: data/raw/{dataset}
              cache: data/cache/{dataset}
            defaults:
              code: ['scripts/*.sh']
              resources: { cpus: 1, mem: 200M, time: '00:10:00' }
            slurm:
              poll_seconds: 0.5
              max_poll_seconds: 2
            stages:
              preprocess:
                command: 'sh {root}/scripts/preprocess.sh {raw_dir} {cache_dir}'
                inputs: ['{raw_dir}']
                outputs: ['{cache_dir}']
              train:
                command: 'sh {root}/scripts/train.sh {cache_dir} {params_file}'
                params: { lr: 0.01 }
                outputs: [model.ckpt]
              evaluate:
                command: 'sh {root}/scripts/evaluate.sh {upstream.train}'
                outputs: [metrics.json]
            """);
        r.Write("scripts/preprocess.sh", "mkdir -p \"$2\" && cp \"$1\"/*.csv \"$2\"/\n");
        r.Write("scripts/train.sh", "cat \"$1\"/*.csv \"$2\" > model.ckpt\n");
        r.Write("scripts/evaluate.sh", "printf '{\"model_bytes\": %s}\\n' \"$(wc -c < \"$1/model.ckpt\")\" > metrics.json\n");
        r.Write($"data/raw/{Dataset}/frames.csv", "timestamp,arbitration_id,data_field,attack\n0.0,1A0,00FF,0\n");
        return r;
    }

    private static SdkRepo New() => new(Path.Combine(Path.GetTempPath(), "kdgat-user-" + Guid.NewGuid().ToString("N")[..10]));

    private SdkRepo UsePackage()
    {
        Write("global.json", $$"""{ "msbuild-sdks": { "KdGat.Sdk": "{{SdkPackage.Version}}" } }""");
        Write("nuget.config", $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="kdgat" value="{SdkPackage.Feed}" />
              </packageSources>
            </configuration>
            """);
        return this;
    }

    public void Write(string relative, string text)
    {
        var path = Path.Combine(Dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    public ProcessResult Build(params string[] args) =>
        ProcessRunner.Run("dotnet", new[] { "msbuild", "pipeline.proj", "-nologo", "-v:m" }.Concat(args), Dir, TimeSpan.FromMinutes(10),
            new Dictionary<string, string>(Env) { ["NUGET_PACKAGES"] = SdkPackage.PackagesDir });

    public BuildReport LastBuild() => BuildReport.Read(Path.Combine(Dir, ".kdgat", "last-build.json"))
        ?? throw new InvalidOperationException("no last-build.json");

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
