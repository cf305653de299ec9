namespace KdGat.Core.Config;

/// <summary>One stage's entry under <c>stages:</c>, with <c>defaults:</c> already applied.</summary>
public sealed record StageConfig
{
    public required string Name { get; init; }
    public required string Command { get; init; }
    /// <summary>Where <see cref="Command"/> is written (line, column), for an error in it (an unknown placeholder).</summary>
    public (int Line, int Column) CommandAt { get; init; }
    /// <summary>Where <see cref="Setup"/> is written; (0, 0) without one.</summary>
    public (int Line, int Column) SetupAt { get; init; }
    public string? Teacher { get; init; }
    public string? ParamsFile { get; init; }
    /// <summary>Parameters from the params file overlaid by inline <c>params:</c>, sorted by name.</summary>
    public required IReadOnlyDictionary<string, ParamValue> Params { get; init; }
    /// <summary>Where each parameter is written, "file(line,col)" relative to the root, so a stale reason can point there.</summary>
    public IReadOnlyDictionary<string, string> ParamSources { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> Inputs { get; init; } = Array.Empty<string>();
    /// <summary>Where each of <see cref="Inputs"/> is written (line, column), in their order, so a message about one points at it.</summary>
    public IReadOnlyList<(int Line, int Column)> InputsAt { get; init; } = [];
    public required IReadOnlyList<string> Outputs { get; init; }
    /// <summary>optional_outputs: written only sometimes; hashed, cached, guarded and cleaned when present, never missing.</summary>
    public IReadOnlyList<string> OptionalOutputs { get; init; } = Array.Empty<string>();
    /// <summary>Where each output is written: those of <see cref="Outputs"/>, then those of <see cref="OptionalOutputs"/>.</summary>
    public IReadOnlyList<(int Line, int Column)> OutputsAt { get; init; } = [];
    public IReadOnlyList<string> Code { get; init; } = Array.Empty<string>();
    /// <summary>Where each <see cref="Code"/> pattern is written in kdgat.yaml (line, column: its defaults.code entry or the stage's own), for a message about it.</summary>
    public IReadOnlyDictionary<string, (int Line, int Column)> CodeAt { get; init; } = new Dictionary<string, (int, int)>();
    public IReadOnlyList<string> Env { get; init; } = Array.Empty<string>();
    public ResourceSpec Resources { get; init; } = new();
    public bool Cache { get; init; } = true;
    public int Retries { get; init; }
    /// <summary>Shell lines run before the command, in the same shell (module load, venv activation); fingerprinted.</summary>
    public IReadOnlyList<string> Setup { get; init; } = Array.Empty<string>();
    /// <summary>executor: local runs this stage on the build's machine inside a SLURM build; null follows the build.</summary>
    public ExecutorKind? Executor { get; init; }
    /// <summary>sweep: the grid this stage is instantiated over (product with the dimensions of its upstreams); empty: not swept itself.</summary>
    public IReadOnlyList<SweepDimension> Sweep { get; init; } = Array.Empty<SweepDimension>();
    /// <summary>Where the entry is, for errors about it.</summary>
    public int Line { get; init; }
    public int Column { get; init; }
}
