using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Tests.Support;
using Xunit.Abstractions;

namespace KdGat.Core.Tests.Config;

/// <summary>
/// Seeded random mutations of the bundled kdgat.yaml and a params file: loading either must
/// succeed or fail with a KdgException that has a code and names the file (with a line for YAML
/// errors), never with anything else. The seed of a failing case is in the assertion message.
/// A mutated params file goes through the params reader the config loader calls for it
/// (ParamsReader.ReadFile), not a whole config load: the same code for the file, a tenth of the time.
/// </summary>
[Trait("Category", "Unit")]
public sealed class YamlFuzzTests(ITestOutputHelper output) : IDisposable
{
    private const int Cases = 1000; // the bar: at least 1,000 mutations of each file
    private static readonly string[] Inserts = ["[", "{", ":", "&", "*", "!", "|", ">", "'", "\"", "\t", "&a ", "*a", "- ", "? ", "\n", "]", "}", ","];
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void MutatedConfig_OnlyKdgErrors() => Fuzz("kdgat.yaml", seedBase: 1_000_000, (config, root, _) => ConfigLoader.Load(config, root));

    [Fact]
    public void MutatedParamsFile_OnlyKdgErrors() => Fuzz("models/gat/large.yaml", seedBase: 2_000_000, (config, _, file) =>
        ParamsReader.ReadFile(file, new SortedDictionary<string, ParamValue>(StringComparer.Ordinal), "gat_large_curriculum", config,
            new YamlDotNet.RepresentationModel.YamlScalarNode("models/gat/large.yaml"), new YamlReader(config), new Dictionary<string, string>(), Path.GetDirectoryName(config)));

    private void Fuzz(string target, int seedBase, Action<string, string, string> load)
    {
        var repo = ConfigLoaderTests.RepoRoot();
        foreach (var f in Directory.EnumerateFiles(Path.Combine(repo, "models"), "*.yaml", SearchOption.AllDirectories))
            _dir.Write(Path.GetRelativePath(repo, f), File.ReadAllText(f));
        var config = _dir.Write("kdgat.yaml", File.ReadAllText(Path.Combine(repo, "kdgat.yaml")));
        var original = File.ReadAllText(Path.Combine(repo, target));
        var file = _dir[target];
        var errors = new Dictionary<string, int>();
        for (var i = 0; i < Cases; i++)
        {
            var seed = seedBase + i;
            File.WriteAllText(file, Mutate(original, new Random(seed)));
            try
            {
                load(config, _dir.Path, file);
                errors["none"] = errors.GetValueOrDefault("none") + 1;
            }
            catch (KdgException e)
            {
                Assert.False(string.IsNullOrEmpty(e.Code), $"seed {seed}: no code: {e.Message}");
                Assert.False(string.IsNullOrEmpty(e.File), $"seed {seed}: {e.Code} names no file: {e.Message}");
                if (e.Code is ErrorCodes.YamlSyntax or ErrorCodes.ParamsFile)
                    Assert.True(e.Line > 0, $"seed {seed}: {e.Code} without a line: {e.Message}");
                errors[e.Code] = errors.GetValueOrDefault(e.Code) + 1;
            }
            catch (Exception e)
            {
                Assert.Fail($"seed {seed}: {e.GetType().Name} instead of a KdgException (mutate {target} with new Random({seed})): {e}");
            }
        }
        output.WriteLine(string.Join(", ", errors.OrderBy(e => e.Key).Select(e => $"{e.Key}: {e.Value}")));
    }

    /// <summary>One to six edits: byte flips, deletions, insertions of YAML indicators (twice as likely), a truncation, a duplicated line.</summary>
    internal static string Mutate(string text, Random rng)
    {
        var s = new System.Text.StringBuilder(text);
        var edits = rng.Next(1, 7);
        for (var e = 0; e < edits && s.Length > 0; e++)
        {
            var at = rng.Next(s.Length);
            switch (rng.Next(6))
            {
                case 0: s[at] = (char)(s[at] ^ (1 << rng.Next(7))); break;
                case 1: s.Remove(at, Math.Min(s.Length - at, rng.Next(1, 8))); break;
                case 2 or 5: s.Insert(at, Inserts[rng.Next(Inserts.Length)]); break;
                case 3: s.Length = at; break;
                case 4:
                    var lines = s.ToString().Split('\n').ToList();
                    var l = rng.Next(lines.Count);
                    lines.Insert(l, lines[l]);
                    s.Clear().Append(string.Join('\n', lines));
                    break;
            }
        }
        return s.ToString();
    }
}
