using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Training;

[assembly: LoadableClass(typeof(DynMoERegressionModelParameters), null, typeof(SignatureLoadModel),
    "DynMoE regression predictor", DynMoERegressionModelParameters.LoaderSignature)]

namespace Microsoft.ML.DynMoE;

/// <summary>A trained DynMoE regressor. The network learns a standardised target; the score is mapped back to label units.</summary>
public sealed class DynMoERegressionModelParameters : DynMoEModelParameters<float>
{
    internal const string LoaderSignature = "DynMoERegressionPred";

    internal DynMoERegressionModelParameters(IHostEnvironment env, FeatureStandardizer standardizer, CompiledMoEMlp network, DynMoERoutingSummary routing, float labelMean, float labelScale)
        : base(env, LoaderSignature, standardizer, network, routing)
    {
        LabelMean = labelMean;
        LabelScale = labelScale;
    }

    private DynMoERegressionModelParameters(IHostEnvironment env, ModelLoadContext ctx)
        : base(env, LoaderSignature, ctx)
    {
        // float: label mean; float: label scale.
        CheckOutputs(Network.OutputDimension == 1, "regression");
        (LabelMean, LabelScale) = ModelDecoding.Decode("regression label scaling", () => (ctx.Reader.ReadSingle(), ctx.Reader.ReadSingle()));
        if (!float.IsFinite(LabelMean) || !(LabelScale > 0) || !float.IsFinite(LabelScale))
            throw ModelDecoding.Damaged($"The DynMoE regression model records label mean {LabelMean} and scale {LabelScale}.");
    }

    /// <summary>Mean of the training labels.</summary>
    public float LabelMean { get; }

    /// <summary>Standard deviation of the training labels (1 when constant).</summary>
    public float LabelScale { get; }

    /// <inheritdoc />
    public override DataViewType OutputType => NumberDataViewType.Single;

    /// <inheritdoc />
    protected override PredictionKind PredictionKind => PredictionKind.Regression;

    private static VersionInfo GetVersionInfo() => TaskVersionInfo("DMOEREGR", LoaderSignature, typeof(DynMoERegressionModelParameters));

    internal static DynMoERegressionModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
        => ModelDecoding.Load(env, ctx, GetVersionInfo(), "regression model", () => new DynMoERegressionModelParameters(env, ctx));

    private protected override VersionInfo SavedVersionInfo => GetVersionInfo();

    private protected override void WriteTaskState(System.IO.BinaryWriter writer)
    {
        writer.Write(LabelMean);
        writer.Write(LabelScale);
    }

    private protected override ValueMapper<VBuffer<float>, float> CreateMapper(RowScorer scorer)
        => (in VBuffer<float> src, ref float score) => score = scorer.ScoreSingle(src) * LabelScale + LabelMean;
}
