using KdGat.Sample.Params;

namespace KdGat.Sample.Stages;

/// <summary>
/// Knowledge-distillation settings. kd_alpha weighs the teacher against the data; it only applies
/// when a --teacher is given, so the same params file trains a plain and a distilled student.
/// </summary>
internal sealed record Distillation(double Alpha, double Temperature)
{
    public static Distillation From(StageParams p, bool hasTeacher) => hasTeacher
        ? new(p.Double("kd_alpha", 0.5, min: 0, max: 1), p.Double("kd_temperature", 2.0, min: 0.01, max: 100))
        : new(0, 1);
}
