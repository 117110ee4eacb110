namespace Microsoft.ML.DynMoE;

/// <summary>Routing measured on a data set, overall and per label value (the DynMoE paper's per-class analysis); encoder models add positions and tokens (<see cref="DynMoEEncoderRoutingReport"/>).</summary>
public class DynMoERoutingReport
{
    /// <summary>Creates a report.</summary>
    public DynMoERoutingReport(DynMoERoutingSummary overall, IReadOnlyDictionary<string, DynMoERoutingSummary> byLabel)
    {
        Overall = overall;
        ByLabel = byLabel;
    }

    /// <summary>Routing over all rows.</summary>
    public DynMoERoutingSummary Overall { get; }

    /// <summary>Routing per label value (empty when no label column was given).</summary>
    public IReadOnlyDictionary<string, DynMoERoutingSummary> ByLabel { get; }
}
