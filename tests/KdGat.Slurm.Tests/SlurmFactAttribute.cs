namespace KdGat.Slurm.Tests;

/// <summary>
/// A test that needs the real local SLURM cluster: reported as skipped (with the reason and the
/// command that starts it) when the cluster is not up, so a run without it never looks like a
/// pass. Under CI=true it is never skipped: the test runs and fails in <see cref="Cluster.Available"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SlurmFactAttribute : FactAttribute
{
    public SlurmFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("CI") != "true" && Cluster.Unavailable is { } why)
            Skip = $"no local SLURM cluster ({why}). Start it as root with: bash scripts/slurm/start-local-slurm.sh";
    }
}

/// <summary>The <see cref="SlurmFactAttribute"/> of data-driven tests.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SlurmTheoryAttribute : TheoryAttribute
{
    public SlurmTheoryAttribute()
    {
        if (Environment.GetEnvironmentVariable("CI") != "true" && Cluster.Unavailable is { } why)
            Skip = $"no local SLURM cluster ({why}). Start it as root with: bash scripts/slurm/start-local-slurm.sh";
    }
}
