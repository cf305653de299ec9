using System.Globalization;
using System.Text.Json;
using KdGat.Core.IO;

namespace KdGat.Core.Tracking;

/// <summary>
/// Immutable run records under .kdgat/records/{dataset}/{stage}/. Each has a unique name
/// (time, build, attempt), is written atomically and never rewritten, so concurrent writers
/// cannot collide and a rerun never destroys what the previous run recorded.
/// </summary>
internal sealed class RecordStore
{
    public RecordStore(string stateDir) => Dir = Path.Combine(stateDir, "records");

    public string Dir { get; }

    private int _written;
    /// <summary>Records this instance wrote: a build that wrote none skips the index step after it (readers ingest on open).</summary>
    public int Written => Volatile.Read(ref _written);

    /// <summary>Writes <paramref name="r"/> with the next number of the record sequence (its <see cref="RunRecord.Seq"/>).</summary>
    public string Write(RunRecord r)
    {
        r = r with { Seq = NextSeq() };
        var name = $"{r.FinishedUtc.UtcDateTime.ToString("yyyyMMdd'T'HHmmss.fff'Z'", CultureInfo.InvariantCulture)}-{r.RecordId}.json";
        var path = Path.Combine(Dir, r.Dataset, r.Slot, name);
        AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(r, RecordJson.Readable.RunRecord));
        Interlocked.Increment(ref _written);
        return path;
    }

    /// <summary>
    /// The next number of the pipeline's record sequence: the order records are written in, which for the runs
    /// of one instance (serialised by its stage lock) is the order they ran in. Newest and latest were by finish
    /// time, a SLURM or compute node clock for a batch job: one that ran fast made an older run the latest. A
    /// counter file under a flock beside it; when it is missing or unreadable, one more than the records' highest.
    /// </summary>
    private long? NextSeq()
    {
        var counter = Path.Combine(Dir, ".seq"); // not a *.json: never listed as a record
        try
        {
            using var held = IndexLock.Exclusive(counter + ".lock", TimeSpan.FromMinutes(2));
            string? text = null;
            try { text = SmallFile.ReadAllText(counter); }
            catch (FileNotFoundException) { }
            var last = long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : Highest();
            // Written before the record: a crash between them leaves a gap, never a number used twice.
            AtomicFile.WriteAllBytes(counter, System.Text.Encoding.ASCII.GetBytes((last + 1).ToString(CultureInfo.InvariantCulture)));
            return last + 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The number only orders History and Status; the record is a commit's proof, and its write failing undoes the run
            // (hours of training for a counter another user's umask made unreadable, or a directory in its place).
            try { return Highest() + 1; }
            catch (Exception again) when (again is IOException or UnauthorizedAccessException) { return null; }
        }

        long Highest() => ReadAll().Max(x => x.Record.Seq) ?? 0;
    }

    /// <summary>True when the record with this id was written (the attempt protocol's proof of a commit).</summary>
    public bool Exists(string dataset, string stage, string recordId)
    {
        var dir = Path.Combine(Dir, dataset, stage);
        return Directory.Exists(dir) && Directory.EnumerateFiles(dir, $"*-{recordId}.json").Any();
    }

    /// <summary>Whether the records dir exists; a file in its place is an IOException: it read as "no records" (RebuildIndex said "rebuilt with 0 run(s)"; a hostile-input pass).</summary>
    private bool DirExists() => File.Exists(Dir)
        ? throw new IOException($"'{Dir}' is a file, not the run records directory; move it away (the records a build writes go there).")
        : Directory.Exists(Dir);

    /// <summary>Every readable record; damaged files are reported through <paramref name="onDamaged"/> and skipped.</summary>
    public IEnumerable<(string Path, RunRecord Record)> ReadAll(Action<string, string>? onDamaged = null)
    {
        if (!DirExists()) yield break;
        foreach (var file in Directory.EnumerateFiles(Dir, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            RunRecord? r = null;
            try { r = JsonSerializer.Deserialize(SmallFile.ReadAllBytes(file), RecordJson.Readable.RunRecord); }
            catch (Exception e) when (e is JsonException or IOException) { onDamaged?.Invoke(file, e.Message); }
            if (r is not null) yield return (file, r);
        }
    }

    /// <summary>Every record file, in name order within each directory (names start with the finish time). Temp files of writes in flight end in .tmp and are not listed.</summary>
    public IEnumerable<string> EnumerateFiles()
    {
        if (!DirExists()) return [];
        return Directory.EnumerateFiles(Dir, "*.json", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith('.'))
            .Order(StringComparer.Ordinal);
    }

    /// <summary>One record and its exact text, or the reason it cannot be read.</summary>
    public static (RunRecord? Record, string? Json, string? Problem) TryRead(string file)
    {
        try
        {
            var json = SmallFile.ReadAllText(file);
            var r = Parse(json);
            return r is null ? (null, null, "not a KdGat run record (fields missing)") : (r, json, null);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return (null, null, e.Message);
        }
    }

    /// <summary>A record from its JSON text; null when required fields are missing.</summary>
    public static RunRecord? Parse(string json)
    {
        RunRecord? r;
        try { r = JsonSerializer.Deserialize(json, RecordJson.Readable.RunRecord); }
        catch (JsonException) { return null; }
        return r is null || string.IsNullOrEmpty(r.RecordId) || string.IsNullOrEmpty(r.Dataset) || string.IsNullOrEmpty(r.Stage) ? null : r;
    }

    /// <summary>
    /// The most metrics a run record keeps, and the longest name: a record must stay well below what
    /// KdGat reads back (<see cref="SmallFile.MaxBytes"/>); a metrics.json of millions of numbers made
    /// one of ~70 MiB, unreadable by every tracking target (KDG5002). At most ~12 MB of metrics even
    /// with every character of every name escaped.
    /// </summary>
    public const int MaxMetrics = 10_000, MaxMetricName = 200;

    /// <inheritdoc cref="ReadMetrics(string, out string?)"/>
    public static SortedDictionary<string, double>? ReadMetrics(string metricsFile) => ReadMetrics(metricsFile, out _);

    /// <summary>
    /// The numbers of a stage's metrics.json, if it wrote one; anything unreadable is just "no
    /// metrics". Python's json.dump writes NaN and Infinity bare, which is not JSON: such a value is
    /// kept as what it is, and a number too large for a double (1e400) as infinity: a diverged run
    /// must show as one (they were left out, and Compare showed the run without its loss: a review).
    /// Bounded: the first <see cref="MaxMetrics"/> in file order, names of at most <see cref="MaxMetricName"/> characters.
    /// </summary>
    /// <param name="overLimit">What the bound left out (for the build's KDG5023), or null.</param>
    public static SortedDictionary<string, double>? ReadMetrics(string metricsFile, out string? overLimit) => ReadMetrics(metricsFile, out overLimit, out _);

    /// <summary>What a JSON value is, in words (a metrics.json that gave no metrics).</summary>
    private static string KindOf(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Null => "null",
        _ => v.ValueKind.ToString().ToLowerInvariant(),
    };

    /// <inheritdoc cref="ReadMetrics(string, out string?)"/>
    /// <param name="unreadable">Why a metrics.json that is there gave no metrics (not JSON, not an object: the build's KDG5024), or null.
    /// A UTF-8 BOM (PowerShell's Out-File) is skipped; such files were dropped without a word (an edge review).</param>
    public static SortedDictionary<string, double>? ReadMetrics(string metricsFile, out string? overLimit, out string? unreadable)
    {
        overLimit = null;
        unreadable = null;
        try
        {
            if (!File.Exists(metricsFile)) return null;
            if (new FileInfo(metricsFile).Length is var size && size > SmallFile.MaxBytes)
            {
                overLimit = $"it is {size >> 20} MiB, more than KdGat reads ({SmallFile.MaxBytes >> 20} MiB): no metrics were recorded";
                return null;
            }
            var bytes = SmallFile.ReadAllBytes(metricsFile);
            var text = new NonFiniteJson(bytes.AsSpan().StartsWith("\uFEFF"u8) ? bytes[3..] : bytes);
            using var doc = JsonDocument.Parse(text.Json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                unreadable = $"it holds a JSON {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}, not an object of name: number pairs";
                return null;
            }
            var result = new SortedDictionary<string, double>(StringComparer.Ordinal);
            int tooMany = 0, tooLong = 0;
            foreach (var (name, x) in text.TopLevelNumbers(doc.RootElement))
            {
                if (name.Length > MaxMetricName) tooLong++;
                else if (result.Count >= MaxMetrics && !result.ContainsKey(name)) tooMany++;
                else result[name] = x;
            }
            // {"test": {"f1": 0.9}} (a common Python shape) gave a run without metrics and no word (a review).
            if (result.Count == 0 && tooLong == 0 && doc.RootElement.EnumerateObject() is var names && names.MoveNext())
                unreadable = $"it has no number at its top level (the first name, '{Diagnostics.ConsoleText.Printable(names.Current.Name.Length > 40 ? names.Current.Name[..40] + "..." : names.Current.Name)}', holds {KindOf(names.Current.Value)}), and KdGat records only top-level numbers";
            if (tooMany + tooLong > 0)
                overLimit = string.Join(" and ", new[]
                {
                    tooMany > 0 ? $"{tooMany} metric(s) beyond the first {MaxMetrics}" : null,
                    tooLong > 0 ? $"{tooLong} with a name longer than {MaxMetricName} characters" : null,
                }.OfType<string>()) + $" were left out of the run record, which keeps the {result.Count} that fit";
            return result;
        }
        catch (JsonException e)
        {
            unreadable = $"it is not JSON ({e.Message.Split(" Path:")[0].Trim()})";
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            unreadable = $"it cannot be read ({e.Message})";
            return null;
        }
    }
}
