using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Training;
using Microsoft.ML.Model.OnnxConverter;

[assembly: LoadableClass(typeof(DynMoEBinaryModelParameters), null, typeof(SignatureLoadModel),
    "DynMoE binary predictor", DynMoEBinaryModelParameters.LoaderSignature)]

namespace Microsoft.ML.DynMoE;

/// <summary>
/// A trained DynMoE binary classifier. Score is the network's logit; Probability is its sigmoid. The network is trained
/// on log-loss, so no separate calibrator is fitted; like any neural network it can be over-confident, so append
/// <c>mlContext.BinaryClassification.Calibrators.Platt()</c> when well-calibrated probabilities matter.
/// </summary>
public sealed class DynMoEBinaryModelParameters : DynMoEModelParameters<float>, IValueMapperDist, IDistCanSaveOnnx
{
    internal const string LoaderSignature = "DynMoEBinaryPred";

    internal DynMoEBinaryModelParameters(IHostEnvironment env, FeatureStandardizer standardizer, CompiledMoEMlp network, DynMoERoutingSummary routing)
        : base(env, LoaderSignature, standardizer, network, routing)
    {
    }

    private DynMoEBinaryModelParameters(IHostEnvironment env, ModelLoadContext ctx)
        : base(env, LoaderSignature, ctx)
        => CheckOutputs(Network.OutputDimension == 1, "binary classification");

    /// <inheritdoc />
    public override DataViewType OutputType => NumberDataViewType.Single;

    /// <summary>The probability's type.</summary>
    public DataViewType DistType => NumberDataViewType.Single;

    /// <inheritdoc />
    protected override PredictionKind PredictionKind => PredictionKind.BinaryClassification;

    private static VersionInfo GetVersionInfo() => TaskVersionInfo("DMOEBINY", LoaderSignature, typeof(DynMoEBinaryModelParameters));

    internal static DynMoEBinaryModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
        => ModelDecoding.Load(env, ctx, GetVersionInfo(), "binary model", () => new DynMoEBinaryModelParameters(env, ctx));

    private protected override VersionInfo SavedVersionInfo => GetVersionInfo();

    private protected override ValueMapper<VBuffer<float>, float> CreateMapper(RowScorer scorer)
        => (in VBuffer<float> src, ref float score) => score = scorer.ScoreSingle(src);

    bool IDistCanSaveOnnx.SaveAsOnnx(OnnxContext ctx, string[] outputNames, string featureColumn) => SaveAsOnnx(ctx, outputNames, featureColumn);

    /// <summary>Maps features to the logit and its sigmoid probability.</summary>
    public ValueMapper<TSrc, TDst, TDist> GetMapper<TSrc, TDst, TDist>()
    {
        Host.Check(typeof(TSrc) == typeof(VBuffer<float>) && typeof(TDst) == typeof(float) && typeof(TDist) == typeof(float), "DynMoE binary maps VBuffer<float> to (float, float).");
        var scorer = CreateScorer();
        ValueMapper<VBuffer<float>, float, float> map = (in VBuffer<float> src, ref float score, ref float probability) =>
        {
            score = scorer.ScoreSingle(src);
            probability = Inference.ScalarMath.Sigmoid(score);
        };
        return (ValueMapper<TSrc, TDst, TDist>)(Delegate)map;
    }
}
