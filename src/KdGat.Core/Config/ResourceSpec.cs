namespace KdGat.Core.Config;

/// <summary>What a stage asks of a cluster node. The local executor ignores it; SLURM uses it.</summary>
public sealed record ResourceSpec
{
    public int? Cpus { get; init; }
    /// <summary>Megabytes.</summary>
    public long? MemMb { get; init; }
    /// <summary>Minutes.</summary>
    public int? TimeMinutes { get; init; }
    public int? Gpus { get; init; }
    /// <summary>The GPU type as the cluster names it (<c>gpus: a100:2</c>): <c>--gpus=a100:2</c>. Null: any GPU.</summary>
    public string? GpuType { get; init; }
    public string? Partition { get; init; }
    public string? Account { get; init; }
    public string? Qos { get; init; }
    public IReadOnlyList<string> Extra { get; init; } = Array.Empty<string>();

    /// <summary>Every field with its value ("-" when unset), for messages about a refused request.</summary>
    public string Describe() =>
        $"cpus={Cpus?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}, mem={(MemMb is { } m ? $"{m}M" : "-")}, " +
        $"gpus={(GpuType is null ? "" : GpuType + ":")}{Gpus?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}, time={(TimeMinutes is { } t ? TimeText(t) : "-")}, " +
        $"partition={Partition ?? "-"}, account={Account ?? "-"}, qos={Qos ?? "-"}, extra=[{string.Join(' ', Extra)}]";

    /// <summary>Stage values win key by key; extras add up.</summary>
    public ResourceSpec OverriddenBy(ResourceSpec s) => new()
    {
        Cpus = s.Cpus ?? Cpus,
        MemMb = s.MemMb ?? MemMb,
        TimeMinutes = s.TimeMinutes ?? TimeMinutes,
        Gpus = s.Gpus ?? Gpus,
        GpuType = s.Gpus is not null ? s.GpuType : GpuType, // count and type are one value
        Partition = s.Partition ?? Partition,
        Account = s.Account ?? Account,
        Qos = s.Qos ?? Qos,
        Extra = Extra.Concat(s.Extra).ToArray(),
    };

    /// <summary>"90min", or "UNLIMITED" for time: UNLIMITED (stored as 0 minutes).</summary>
    public static string TimeText(int minutes) =>
        minutes == ResourceParser.UnlimitedMinutes ? "UNLIMITED" : $"{minutes.ToString(System.Globalization.CultureInfo.InvariantCulture)}min";
}
