using System.Globalization;
using System.Text;

namespace KdGat.Sample.Tests;

/// <summary>What one in-process run of the sample returned.</summary>
public sealed record RunResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>
/// A temp directory for one test, with helpers to run verbs in it and to lay out the pipeline's
/// three chains the way kdgat.yaml does (large, small with KD, small without).
/// </summary>
public sealed class Workspace : IDisposable
{
    public Workspace()
    {
        Root = Path.Combine(Path.GetTempPath(), "kdgat-sample-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string this[string relative] => Path.Combine(Root, relative);

    public RunResult Run(params string[] args) => RunWithEnv(_ => null, args);

    public RunResult RunWithEnv(Func<string, string?> env, params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var code = Program.Run(args, stdout, stderr, env);
        return new RunResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs and asserts success, showing the output on failure.</summary>
    public RunResult Ok(params string[] args)
    {
        var r = Run(args);
        Assert.True(r.ExitCode == 0, r.ToString());
        return r;
    }

    public string WriteParams(string name, string json)
    {
        var path = this[name];
        File.WriteAllText(path, json, new UTF8Encoding(false));
        return path;
    }

    // The params files KdGat would write from models/*.yaml plus the stages' inline params.
    public const string VgaeLarge = """{"epochs": 30, "hidden": 32, "latent": 16, "lr": 0.01, "seed": 7}""";
    public const string VgaeSmallKd = """{"epochs": 30, "hidden": 6, "kd_alpha": 0.5, "kd_temperature": 2.0, "latent": 3, "lr": 0.01, "seed": 7}""";
    public const string GatLarge = """{"curriculum_stages": 4, "epochs": 20, "heads": 4, "hidden": 32, "lr": 0.001, "seed": 11}""";
    public const string GatSmallKd = """{"curriculum_stages": 4, "epochs": 20, "heads": 2, "hidden": 3, "kd_alpha": 0.5, "kd_temperature": 2.0, "lr": 0.001, "seed": 11}""";
    public const string DqnLarge = """{"episodes": 400, "epsilon": 0.2, "gamma": 0.9, "lr": 0.1, "seed": 13}""";
    public const string DqnSmallKd = """{"episodes": 200, "epsilon": 0.2, "gamma": 0.9, "kd_alpha": 0.5, "lr": 0.1, "seed": 13}""";

    /// <summary>generate + preprocess; returns the cache dir.</summary>
    public string Prepare(string dataset = "hcrl_sa")
    {
        Ok("generate", "--dataset", dataset, "--out", this["raw"]);
        Ok("preprocess", "--raw", this["raw"], "--out", this["cache"], "--params", WriteParams("preprocess.json", """{"stride": 25, "window": 50}"""));
        return this["cache"];
    }

    /// <summary>The large chain: vgae -> gat -> dqn -> evaluate, in run dirs named like the stages.</summary>
    public void TrainLarge()
    {
        var cache = this["cache"];
        Ok("autoencoder", "--cache", cache, "--params", WriteParams("vgae_large.json", VgaeLarge), "--out", this["vgae_large"]);
        Ok("curriculum", "--cache", cache, "--params", WriteParams("gat_large.json", GatLarge), "--vgae", this["vgae_large"], "--out", this["gat_large"]);
        Ok("fusion", "--cache", cache, "--params", WriteParams("dqn_large.json", DqnLarge), "--vgae", this["vgae_large"], "--gat", this["gat_large"], "--out", this["dqn_large"]);
        Ok("evaluate", "--cache", cache, "--vgae", this["vgae_large"], "--gat", this["gat_large"], "--dqn", this["dqn_large"], "--out", this["eval_large"]);
    }

    /// <summary>The small students distilled from the large chain (TrainLarge first).</summary>
    public void TrainSmallKd()
    {
        var cache = this["cache"];
        Ok("autoencoder", "--cache", cache, "--params", WriteParams("vgae_small.json", VgaeSmallKd), "--teacher", this["vgae_large"], "--out", this["vgae_small_kd"]);
        Ok("curriculum", "--cache", cache, "--params", WriteParams("gat_small.json", GatSmallKd), "--vgae", this["vgae_small_kd"], "--teacher", this["gat_large"], "--out", this["gat_small_kd"]);
        Ok("fusion", "--cache", cache, "--params", WriteParams("dqn_small.json", DqnSmallKd), "--vgae", this["vgae_small_kd"], "--gat", this["gat_small_kd"], "--teacher", this["dqn_large"], "--out", this["dqn_small_kd"]);
        Ok("evaluate", "--cache", cache, "--vgae", this["vgae_small_kd"], "--gat", this["gat_small_kd"], "--dqn", this["dqn_small_kd"], "--out", this["eval_small_kd"]);
    }

    /// <summary>
    /// The frame rows of every CSV in <paramref name="from"/> (name order), cut into
    /// <paramref name="parts"/> files part_N.csv in <paramref name="to"/>, each with its clock
    /// restarted at zero: the shape of a real multi-file capture. Returns the files, in order.
    /// </summary>
    public string[] SplitCapture(string from, string to, int parts)
    {
        // One continuous recording first: each source file continues where the previous one ended.
        var rows = new List<string[]>();
        foreach (var f in Directory.GetFiles(from, "*.csv").Order(StringComparer.Ordinal))
        {
            var offset = rows.Count == 0 ? 0 : Seconds(rows[^1][0]);
            rows.AddRange(File.ReadLines(f).Skip(1).Select(l => l.Split(',')).Select(c => (string[])[Format(Seconds(c[0]) + offset), c[1], c[2], c[3]]));
        }
        Directory.CreateDirectory(to);
        var files = new string[parts];
        for (var k = 0; k < parts; k++)
        {
            var part = rows.Skip(k * rows.Count / parts).Take((k + 1) * rows.Count / parts - k * rows.Count / parts).ToList();
            var t0 = Seconds(part[0][0]);
            files[k] = Path.Combine(to, $"part_{k + 1}.csv");
            File.WriteAllLines(files[k], part.Select(c => $"{Format(Seconds(c[0]) - t0)},{c[1]},{c[2]},{c[3]}").Prepend(CsvHeader));
        }
        return files;
    }

    public const string CsvHeader = "timestamp,arbitration_id,data_field,attack";

    private static double Seconds(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    private static string Format(double seconds) => seconds.ToString("0.000000", CultureInfo.InvariantCulture);

    /// <summary>Every file under the workspace except the params files, by relative path.</summary>
    public SortedDictionary<string, byte[]> Outputs()
    {
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var f in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(Root, f);
            if (rel.Contains(Path.DirectorySeparatorChar)) files[rel] = File.ReadAllBytes(f);
        }
        return files;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
