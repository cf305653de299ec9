namespace KdGat.Core.Pipeline;

/// <summary>
/// Where each configured dataset's stage outputs can be, and where its raw data is, for every dataset
/// of the configuration whatever -p:Dataset selects: <see cref="DependencyCheck"/> refuses a stage
/// that reads another dataset's outputs (KDG1038) or raw data its inputs do not cover (KDG1039).
/// An output lies in its run dir ({runs}/{dataset}/...) or its own dataset's cache dir
/// (<see cref="OutputRules"/>, checked for every dataset that is built), so those two folders
/// stand for every declared output of a dataset, instantiated or not; with its raw dir, three entries a dataset, built
/// once per layout, each path checked by hash lookups of its ancestors and one ordinal range.
/// </summary>
internal sealed class DatasetAreas
{
    /// <summary>A folder of dataset <paramref name="Dataset"/>: what it is, in words; <paramref name="Raw"/> for its raw data, else where its outputs can be.</summary>
    public sealed record Area(string Dataset, string What, bool Raw);

    private readonly PathMap<Area> _areas = new();

    public DatasetAreas(PipelineLayout layout)
    {
        var c = layout.Config;
        foreach (var d in c.Datasets)
        {
            _areas.Add(Path.Combine(layout.RunsRoot, d), new(d, $"the runs of dataset {d}", false));
            _areas.Add(layout.Resolve(c.RawDir, d), new(d, $"the raw data of dataset {d} (paths.raw)", true));
        }
        foreach (var (dataset, dir) in layout.OwnCacheDirs()) _areas.Add(dir, new(dataset, $"the cache dir of dataset {dataset} (paths.cache)", false));
    }

    /// <summary>
    /// The folders at and above <paramref name="path"/> (nearest first: another dataset's outputs, raw
    /// data of any dataset), and with <paramref name="below"/> those below it.
    /// </summary>
    public IEnumerable<KeyValuePair<string, Area>> Around(string path, bool below) =>
        below ? _areas.AtOrAbove(path).Concat(_areas.Below(path)) : _areas.AtOrAbove(path);
}
