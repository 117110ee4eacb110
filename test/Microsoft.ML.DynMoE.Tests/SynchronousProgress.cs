using System;

namespace Microsoft.ML.DynMoE.Tests;

/// <summary>
/// Reports progress on the training thread, at once (<see cref="Progress{T}"/> would post to the thread pool, so a
/// test could read its list before the last report arrived).
/// </summary>
internal sealed class SynchronousProgress : IProgress<DynMoETrainingProgress>
{
    private readonly Action<DynMoETrainingProgress> _report;

    public SynchronousProgress(Action<DynMoETrainingProgress> report) => _report = report;

    public void Report(DynMoETrainingProgress value) => _report(value);
}
