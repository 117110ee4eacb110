namespace Microsoft.ML.DynMoE.Internal;

/// <summary>
/// The <see cref="MLContext"/> members ML.NET keeps internal that the experiments need, reached the one way this
/// package reaches ML.NET internals: compiled against the publicized assemblies (docs/architecture.md).
/// </summary>
internal static class MLContextInternals
{
    /// <summary>The seed passed to <c>new MLContext(seed)</c>, or null when none was given; ML.NET's components default to it.</summary>
    public static int? Seed(MLContext mlContext) => ((IHostEnvironmentInternal)mlContext).Seed;

    /// <summary>Stops the trainers running on <paramref name="mlContext"/> at their next check, as AutoML does.</summary>
    public static void CancelExecution(MLContext mlContext) => mlContext.CancelExecution();
}
