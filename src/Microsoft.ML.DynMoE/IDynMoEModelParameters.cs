namespace Microsoft.ML.DynMoE;

/// <summary>What every DynMoE model exposes, whatever its task.</summary>
public interface IDynMoEModelParameters
{
    /// <summary>Routing of each MoE layer measured on the training data, with the expert-count history over training.</summary>
    DynMoERoutingSummary Routing { get; }

    /// <summary>Measures routing on any data, overall and (with <paramref name="labelColumnName"/>) per label value.</summary>
    DynMoERoutingReport ComputeRouting(IDataView data, string featureColumnName = "Features", string? labelColumnName = null);
}
