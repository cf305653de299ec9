using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using KdGat.Testing;

namespace KdGat.EndToEnd.Tests.Differential;

/// <summary>
/// Seeded random edits of a sample-pipeline sandbox, each of the kinds a user makes between two
/// builds: raw frame bytes and labels, parameter values (in models/*.yaml and inline params:),
/// a code file, a deleted or edited output, an added dataset, an environment value. Everything
/// derives from the seed, so a failing sequence replays exactly.
/// </summary>
public sealed class PipelineMutator
{
    public const string EnvName = "KDG_DIFF_ENV";
    private const int MaxDatasets = 2;
    private const string CodeFile = "stagecode/wrap.sh";
    private readonly Sandbox _s;
    private readonly Random _rng;
    private readonly List<string> _datasets = ["d0"];
    private readonly Dictionary<string, double> _caps = new(StringComparer.Ordinal);

    public PipelineMutator(Sandbox s, int seed)
    {
        _s = s;
        _rng = new Random(seed);
    }

    public IReadOnlyList<string> Datasets => _datasets;

    /// <summary>
    /// Small generated data instead of the generator's (no generator: a missing dataset is an
    /// error), a cheap code glob (a wrapper every command runs through) and one fingerprinted
    /// environment variable.
    /// </summary>
    public void Prepare()
    {
        _s.EditConfig(c =>
        {
            c = Regex.Replace(c, @"(?m)^generator:.*$", "");
            c = Regex.Replace(c, @"(?m)^datasets: .*$", "datasets: [d0]");
            c = Replace(c, "code: ['src/KdGat.Sample/**/*.cs']", $"code: ['{CodeFile}']");
            c = Replace(c, "env: []", $"env: [{EnvName}]");
            return Replace(c, "sample: 'dotnet {tools}/KdGat.Sample.dll'", $"sample: 'sh {{root}}/{CodeFile} dotnet {{tools}}/KdGat.Sample.dll'");
        });
        // Fewer epochs and episodes than the sample's: the differences this test looks for do not need converged models.
        foreach (var model in Directory.GetFiles(Path.Combine(_s.Dir, "models"), "*.yaml", SearchOption.AllDirectories))
            File.WriteAllText(model, Regex.Replace(File.ReadAllText(model), @"(?m)^(epochs|episodes): \d+$", m => m.Groups[1].Value == "epochs" ? "epochs: 6" : "episodes: 60"));
        Write(CodeFile, "#!/bin/sh\n# every stage command runs through this wrapper (the pipeline's 'code')\nexec \"$@\"\n");
        _s.Env[EnvName] = "start";
        WriteRawData("d0");
    }

    /// <summary>Applies one random mutation; returns what it did, for the failure message.</summary>
    public string Next()
    {
        var roll = _rng.Next(100);
        return roll switch
        {
            < 25 => RawBytes(),
            < 40 => RawLabel(),
            < 60 => ModelParameter(),
            < 70 => InlineParameter(),
            < 75 => EquivalentNumber(),
            < 80 => Code(),
            < 90 => Output(),
            < 95 => Env(),
            _ => _datasets.Count < MaxDatasets ? AddDataset() : RawBytes(),
        };
    }

    private string RawBytes()
    {
        var (file, lines, i) = RandomFrame(attack: null);
        var cols = lines[i].Split(',');
        var data = cols[2].ToCharArray();
        if (data.Length == 0) return RawLabel();
        var at = _rng.Next(data.Length);
        var was = data[at];
        do data[at] = "0123456789ABCDEF"[_rng.Next(16)]; while (data[at] == was);
        cols[2] = new string(data);
        lines[i] = string.Join(',', cols);
        File.WriteAllLines(file, lines);
        return $"raw {Rel(file)}:{i + 1} data byte {at / 2}: {was} -> {data[at]}";
    }

    private string RawLabel()
    {
        // Half the time an attack frame becomes normal, half the time the reverse, so labels neither drift to all-attack nor all-normal.
        var (file, lines, i) = RandomFrame(attack: _rng.Next(2) == 0);
        var cols = lines[i].Split(',');
        cols[3] = cols[3] == "1" ? "0" : "1";
        lines[i] = string.Join(',', cols);
        File.WriteAllLines(file, lines);
        return $"raw {Rel(file)}:{i + 1} label -> {cols[3]}";
    }

    private (string File, string[] Lines, int Index) RandomFrame(bool? attack)
    {
        var dataset = _datasets[_rng.Next(_datasets.Count)];
        var files = Directory.GetFiles(Path.Combine(_s.Dir, "data", "automotive", dataset), "*.csv").Order(StringComparer.Ordinal).ToArray();
        var file = files[_rng.Next(files.Length)];
        var lines = File.ReadAllLines(file);
        var candidates = Enumerable.Range(1, lines.Length - 1)
            .Where(i => lines[i].Split(',').Length == 4 && (attack is null || lines[i].EndsWith(attack.Value ? ",1" : ",0", StringComparison.Ordinal))).ToArray();
        if (candidates.Length == 0) candidates = Enumerable.Range(1, lines.Length - 1).ToArray();
        return (file, lines, candidates[_rng.Next(candidates.Length)]);
    }

    private string ModelParameter()
    {
        var files = Directory.GetFiles(Path.Combine(_s.Dir, "models"), "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        var file = files[_rng.Next(files.Length)];
        var lines = File.ReadAllLines(file);
        var numeric = Enumerable.Range(0, lines.Length).Where(i => Regex.IsMatch(lines[i], @"^\w+: [0-9.eE+-]+$")).ToArray();
        var i = numeric[_rng.Next(numeric.Length)];
        var (key, value) = (lines[i].Split(": ")[0], lines[i].Split(": ")[1]);
        var cap = _caps.TryGetValue($"{Rel(file)}:{key}", out var c) ? c : _caps[$"{Rel(file)}:{key}"] = double.Parse(value, CultureInfo.InvariantCulture);
        var now = NewValue(key, value, cap);
        lines[i] = $"{key}: {now}";
        File.WriteAllLines(file, lines);
        return $"{Rel(file)}: {key} {value} -> {now}";
    }

    private string InlineParameter()
    {
        var text = File.ReadAllText(_s.Config);
        var hits = Regex.Matches(text, @"\b(window|stride|kd_alpha|kd_temperature): ([0-9.eE+-]+)").ToArray();
        var m = hits[_rng.Next(hits.Length)];
        var now = NewValue(m.Groups[1].Value, m.Groups[2].Value, cap: 0);
        File.WriteAllText(_s.Config, text[..m.Groups[2].Index] + now + text[(m.Groups[2].Index + m.Groups[2].Length)..]);
        return $"kdgat.yaml offset {m.Index}: {m.Groups[1].Value} {m.Groups[2].Value} -> {now}";
    }

    /// <summary>The same number written another way (0.001 -> 1e-3 -> 1.0E-3): must change nothing.</summary>
    private string EquivalentNumber()
    {
        var files = Directory.GetFiles(Path.Combine(_s.Dir, "models"), "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        var file = files[_rng.Next(files.Length)];
        var lines = File.ReadAllLines(file);
        var i = Enumerable.Range(0, lines.Length).Where(i => Regex.IsMatch(lines[i], @"^\w+: [0-9.eE+-]+$")).OrderBy(_ => _rng.Next()).First();
        var (key, value) = (lines[i].Split(": ")[0], lines[i].Split(": ")[1]);
        var v = double.Parse(value, CultureInfo.InvariantCulture);
        string[] forms = [v.ToString("E3", CultureInfo.InvariantCulture), v.ToString("0.0###########", CultureInfo.InvariantCulture), v.ToString("e", CultureInfo.InvariantCulture)];
        var now = forms[_rng.Next(forms.Length)];
        lines[i] = $"{key}: {now}";
        File.WriteAllLines(file, lines);
        return $"{Rel(file)}: {key} {value} -> {now} (same value)";
    }

    /// <param name="cap">The sample's own value of a size parameter: never exceeded, so stages stay as cheap as the sample's.</param>
    private string NewValue(string key, string value, double cap)
    {
        var v = double.Parse(value, CultureInfo.InvariantCulture);
        var integral = Regex.IsMatch(value, @"^[+-]?\d+$");
        string I(int n) => n.ToString(CultureInfo.InvariantCulture);
        return key switch
        {
            "seed" => I(_rng.Next(1, 100)),
            "window" => I(_rng.Next(20, 61)),
            "stride" => I(_rng.Next(10, 31)),
            "epochs" or "curriculum_stages" or "episodes" or "hidden" or "latent" or "heads" =>
                I(Math.Clamp((int)v + (_rng.Next(2) == 0 ? -1 : 1) * Math.Max(1, (int)cap / 10), 1, Math.Max(2, (int)cap))),
            _ when integral => I((int)v + 1),
            "kd_temperature" => (1 + _rng.Next(8) / 2.0).ToString("0.0", CultureInfo.InvariantCulture),
            "lr" => Math.Clamp(v * (_rng.Next(2) == 0 ? 0.5 : 2), 1e-4, 0.5).ToString("R", CultureInfo.InvariantCulture),
            _ => Math.Round(Math.Clamp(v + (_rng.NextDouble() - 0.5) * 0.2, 0.05, 0.95), 3).ToString("R", CultureInfo.InvariantCulture),
        };
    }

    private string Code()
    {
        File.AppendAllText(Path.Combine(_s.Dir, CodeFile), $"# edit {_rng.Next()}\n");
        return $"code {CodeFile}: comment added";
    }

    /// <summary>Deletes or flips a byte of a declared output (in place: a hard link into the output store stays one).</summary>
    private string Output()
    {
        var files = _datasets
            .SelectMany(d => Directory.Exists(Path.Combine(_s.Dir, "experimentruns", d)) ? Directory.GetDirectories(Path.Combine(_s.Dir, "experimentruns", d)) : [])
            .Where(d => Path.GetFileName(d) != ".kdgat")
            .SelectMany(d => Directory.GetFiles(d).Where(f => Path.GetFileName(f) is not ("kdgat.manifest.json" or "params.json")))
            .Concat(_datasets.SelectMany(d => Directory.Exists(Path.Combine(_s.Dir, "data", "cache", d)) ? Directory.GetFiles(Path.Combine(_s.Dir, "data", "cache", d), "*", SearchOption.AllDirectories) : []))
            .Order(StringComparer.Ordinal).ToArray();
        var file = files[_rng.Next(files.Length)];
        if (_rng.Next(2) == 0)
        {
            File.Delete(file);
            return $"output {Rel(file)} deleted";
        }
        using var f = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        var at = f.Length == 0 ? 0 : _rng.NextInt64(f.Length);
        f.Position = at;
        var b = f.Length == 0 ? 0 : f.ReadByte();
        f.Position = at;
        f.WriteByte((byte)(b ^ 0x20));
        return $"output {Rel(file)} byte {at} edited in place";
    }

    private string Env()
    {
        var now = "v" + _rng.Next(1000).ToString(CultureInfo.InvariantCulture);
        var was = _s.Env[EnvName];
        _s.Env[EnvName] = now;
        return $"env {EnvName}: {was} -> {now}";
    }

    private string AddDataset()
    {
        var name = "d" + _datasets.Count.ToString(CultureInfo.InvariantCulture);
        _datasets.Add(name);
        WriteRawData(name);
        _s.EditConfig(c => Regex.Replace(c, @"(?m)^datasets: .*$", $"datasets: [{string.Join(", ", _datasets)}]"));
        return $"dataset {name} added";
    }

    /// <summary>
    /// A small capture in the sample's raw format: a dozen periodic ECUs and a few attack episodes
    /// (DoS on id 000 or forged payloads), 2,400 frames, so every stage has normal and attack graphs.
    /// </summary>
    private void WriteRawData(string dataset)
    {
        var ecus = Enumerable.Range(0, 12).Select(_ => (Id: _rng.Next(0x080, 0x800), Base: RandomBytes(8))).ToArray();
        var sb = new StringBuilder("timestamp,arbitration_id,data_field,attack\n");
        long t = 1_000_000;
        for (var n = 0; n < 2400; n++)
        {
            t += 400 + _rng.Next(400);
            var attack = n % 600 is >= 300 and < 360;
            var (id, data) = attack
                ? (_rng.Next(2) == 0 ? 0 : ecus[_rng.Next(ecus.Length)].Id, RandomBytes(8))
                : (ecus[n % ecus.Length].Id, ecus[n % ecus.Length].Base.Select((b, j) => j == 7 ? (byte)n : b).ToArray());
            sb.Append(CultureInfo.InvariantCulture, $"{t / 1_000_000}.{t % 1_000_000:D6},{id:X3},{Convert.ToHexString(data)},{(attack ? 1 : 0)}\n");
        }
        Write($"data/automotive/{dataset}/frames.csv", sb.ToString());
    }

    private byte[] RandomBytes(int n)
    {
        var b = new byte[n];
        _rng.NextBytes(b);
        return b;
    }

    private void Write(string rel, string text)
    {
        var path = Path.Combine(_s.Dir, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private string Rel(string path) => Path.GetRelativePath(_s.Dir, path);

    private static string Replace(string text, string old, string now) =>
        text.Contains(old, StringComparison.Ordinal) ? text.Replace(old, now, StringComparison.Ordinal) : throw new InvalidOperationException($"'{old}' not found in kdgat.yaml");
}
