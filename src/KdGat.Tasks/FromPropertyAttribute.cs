namespace KdGat.Tasks;

/// <summary>
/// A task parameter the targets fill from a KdGat property of another name (MaxSize="$(CacheMaxSize)"):
/// the KDG1225 check finds an environment variable CACHEMAXSIZE's value there (PipelineTask.ParameterValue).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class FromPropertyAttribute(string property) : Attribute
{
    public string Property { get; } = property;
}
