using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Training;

[assembly: LoadableClass(typeof(DynMoEMulticlassModelParameters), null, typeof(SignatureLoadModel),
    "DynMoE multiclass predictor", DynMoEMulticlassModelParameters.LoaderSignature)]

namespace Microsoft.ML.DynMoE;

/// <summary>A trained DynMoE multiclass classifier: the score is the softmax probability of each class.</summary>
public sealed class DynMoEMulticlassModelParameters : DynMoEModelParameters<VBuffer<float>>
{
    internal const string LoaderSignature = "DynMoEMulticlassPred";

    internal DynMoEMulticlassModelParameters(IHostEnvironment env, FeatureStandardizer standardizer, CompiledMoEMlp network, DynMoERoutingSummary routing)
        : base(env, LoaderSignature, standardizer, network, routing)
        => OutputType = new VectorDataViewType(NumberDataViewType.Single, network.OutputDimension);

    private DynMoEMulticlassModelParameters(IHostEnvironment env, ModelLoadContext ctx)
        : base(env, LoaderSignature, ctx)
    {
        CheckOutputs(Network.OutputDimension >= 2, "multiclass classification");
        OutputType = new VectorDataViewType(NumberDataViewType.Single, Network.OutputDimension);
    }

    /// <summary>Number of classes.</summary>
    public int NumberOfClasses => Network.OutputDimension;

    /// <inheritdoc />
    public override DataViewType OutputType { get; }

    /// <inheritdoc />
    protected override PredictionKind PredictionKind => PredictionKind.MulticlassClassification;

    private static VersionInfo GetVersionInfo() => TaskVersionInfo("DMOEMCLS", LoaderSignature, typeof(DynMoEMulticlassModelParameters));

    internal static DynMoEMulticlassModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
        => ModelDecoding.Load(env, ctx, GetVersionInfo(), "multiclass model", () => new DynMoEMulticlassModelParameters(env, ctx));

    private protected override VersionInfo SavedVersionInfo => GetVersionInfo();

    private protected override ValueMapper<VBuffer<float>, VBuffer<float>> CreateMapper(RowScorer scorer)
    {
        int classes = NumberOfClasses;
        return (in VBuffer<float> src, ref VBuffer<float> dst) =>
        {
            var editor = VBufferEditor.Create(ref dst, classes);
            scorer.Score(src, editor.Values);
            Inference.ScalarMath.SoftMax(editor.Values, editor.Values);
            dst = editor.Commit();
        };
    }
}
