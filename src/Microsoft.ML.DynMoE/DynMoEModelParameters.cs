using System.Runtime.CompilerServices;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Onnx;
using Microsoft.ML.DynMoE.Training;
using Microsoft.ML.Model.OnnxConverter;
using Microsoft.ML.Trainers;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// Shared state of the DynMoE model parameters: the feature standardisation, the trained network as managed arrays,
/// and the routing measured during training. Scoring never calls TorchSharp, so it is fast per row, thread-safe and
/// works without the native library.
/// </summary>
/// <typeparam name="TOutput">The predictor's output type.</typeparam>
public abstract class DynMoEModelParameters<TOutput> : ModelParametersBase<TOutput>, IValueMapper, IDynMoEModelParameters, ISingleCanSaveOnnx
{
    private const string NetworkStreamName = "DynMoENetwork.bin";

    private protected DynMoEModelParameters(IHostEnvironment env, string name, FeatureStandardizer standardizer, CompiledMoEMlp network, DynMoERoutingSummary routing)
        : base(env, name)
    {
        Standardizer = standardizer;
        Network = network;
        Routing = routing;
        InputType = new VectorDataViewType(NumberDataViewType.Single, standardizer.FeatureCount);
    }

    private protected DynMoEModelParameters(IHostEnvironment env, string name, ModelLoadContext ctx)
        : base(env, name, ctx)
    {
        // *** Binary format ***
        // float[] (count-prefixed): feature means; float[]: inverse standard deviations;
        // routing summary (see DynMoERoutingSummary.Write); the network in its own stream.
        var (standardizer, routing) = ModelDecoding.Decode("model parameters", () => ReadSharedState(ctx.Reader));
        Standardizer = standardizer;
        Routing = routing;
        CompiledMoEMlp? network = null;
        if (!ctx.TryLoadBinaryStream(NetworkStreamName, r => network = CompiledMoEMlp.Load(r)))
            throw Host.ExceptDecode($"The DynMoE model is missing its '{NetworkStreamName}' stream.");
        Network = network!;
        if (Network.InputDimension != standardizer.FeatureCount)
            throw ModelDecoding.Damaged($"The DynMoE network reads {Network.InputDimension} features but the model's standardisation has {standardizer.FeatureCount}.");
        Routing.CheckMatches(Enumerable.Range(0, Network.LayerCount).Select(i => Network.GetBlock(i).SlotCount).ToArray());
        InputType = new VectorDataViewType(NumberDataViewType.Single, standardizer.FeatureCount);
    }

    private static (FeatureStandardizer, DynMoERoutingSummary) ReadSharedState(BinaryReader reader)
    {
        var mean = ModelDecoding.ReadArray(reader, "feature means");
        if (mean.Length < 1)
            throw ModelDecoding.Damaged("The DynMoE model records no features.");
        var inverseStd = ModelDecoding.ReadArray(reader, "feature inverse standard deviations", mean.Length);
        return (new FeatureStandardizer(mean, inverseStd), DynMoERoutingSummary.Read(reader));
    }

    /// <summary>Checks the output count the task needs; a loaded network with another count is damaged.</summary>
    private protected void CheckOutputs(bool valid, string task)
    {
        if (!valid)
            throw ModelDecoding.Damaged($"The DynMoE network has {Network.OutputDimension} outputs, which a {task} model cannot have.");
    }

    internal FeatureStandardizer Standardizer { get; }

    internal CompiledMoEMlp Network { get; }

    /// <inheritdoc />
    public DynMoERoutingSummary Routing { get; }

    /// <summary>Number of input features the model was trained on.</summary>
    public int FeatureCount => Standardizer.FeatureCount;

    /// <inheritdoc />
    public DataViewType InputType { get; }

    /// <inheritdoc />
    public abstract DataViewType OutputType { get; }

    /// <inheritdoc />
    public ValueMapper<TSrc, TDst> GetMapper<TSrc, TDst>()
    {
        Host.Check(typeof(TSrc) == typeof(VBuffer<float>) && typeof(TDst) == typeof(TOutput),
            $"{GetType().Name} maps VBuffer<float> to {(typeof(TOutput) == typeof(float) ? "float" : "VBuffer<float>")}.");
        return (ValueMapper<TSrc, TDst>)(Delegate)CreateMapper(CreateScorer());
    }

    /// <summary>The task's map from raw features to its output, scoring with <paramref name="scorer"/> (one per delegate).</summary>
    private protected abstract ValueMapper<VBuffer<float>, TOutput> CreateMapper(RowScorer scorer);

    /// <summary>The concrete class's version header; its static <c>Create</c> checks the same one on load.</summary>
    private protected abstract VersionInfo SavedVersionInfo { get; }

    /// <summary>The version header of a task's model: the tasks differ in their signatures only, and share the format's version.</summary>
    private protected static VersionInfo TaskVersionInfo(string modelSignature, string loaderSignature, Type modelType) => new(
        modelSignature: modelSignature, verWrittenCur: 0x00010001, verReadableCur: 0x00010001, verWeCanReadBack: 0x00010001,
        loaderSignature: loaderSignature, loaderAssemblyName: modelType.Assembly.FullName);

    /// <summary>Writes the task's own fields; the loading constructor reads them after the shared ones.</summary>
    private protected virtual void WriteTaskState(BinaryWriter writer)
    {
    }

    /// <inheritdoc />
    protected sealed override void SaveCore(ModelSaveContext ctx)
    {
        base.SaveCore(ctx);
        ctx.SetVersionInfo(SavedVersionInfo);
        var writer = ctx.Writer;
        CompiledMoEMlp.WriteArray(writer, Standardizer.Mean);
        CompiledMoEMlp.WriteArray(writer, Standardizer.InverseStd);
        Routing.Write(writer);
        WriteTaskState(writer);
        ctx.SaveBinaryStream(NetworkStreamName, w => Network.Save(w));
    }

    bool ICanSaveOnnx.CanSaveOnnx(OnnxContext ctx) => true;

    bool ISingleCanSaveOnnx.SaveAsOnnx(OnnxContext ctx, string[] outputNames, string featureColumn) => SaveAsOnnx(ctx, outputNames, featureColumn);

    /// <summary>Emits this model as ONNX nodes for ML.NET's converter (<see cref="DynMoEOnnxSaver"/>).</summary>
    private protected bool SaveAsOnnx(OnnxContext ctx, string[] outputNames, string featureColumn)
        => DynMoEOnnxSaver.Save(this, ctx, outputNames, featureColumn);

    /// <summary>Runs the network on one row of raw features and writes its outputs (logits, or the standardised regression value) to <paramref name="output"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Evaluate(in VBuffer<float> features, Span<float> output, RowScratch scratch, Span<int> activatedPerLayer = default, long[][]? expertLoad = null)
    {
        if (features.Length != FeatureCount)
            throw Host.Except($"The feature vector has {features.Length} values, but this DynMoE model was trained on {FeatureCount}. Score with the same featurization as training.");
        features.CopyTo(scratch.Raw);
        Standardizer.Apply(scratch.Raw, scratch.Standardized);
        Network.Forward(scratch.Standardized, output[..Network.OutputDimension], scratch.Network, activatedPerLayer, expertLoad);
    }

    /// <summary>The scoring state of one mapper delegate; see <see cref="RowScorer"/>.</summary>
    private protected RowScorer CreateScorer() => new(this);

    /// <summary>
    /// Scores rows for one mapper delegate with buffers of its own, so the model keeps no per-thread state (nothing to
    /// dispose). ML.NET asks for a mapper per cursor and per prediction engine, so its calls come from one thread; a
    /// caller that shares one delegate across threads still gets correct results: an overlapping call borrows fresh
    /// buffers instead of racing on these.
    /// </summary>
    private protected sealed class RowScorer
    {
        private readonly DynMoEModelParameters<TOutput> _model;
        private readonly RowScratch _scratch;
        private int _busy;

        public RowScorer(DynMoEModelParameters<TOutput> model)
        {
            _model = model;
            _scratch = new RowScratch(model);
        }

        /// <summary>Scores a model with one output (the binary logit, the standardised regression value).</summary>
        public float ScoreSingle(in VBuffer<float> features)
        {
            Span<float> output = stackalloc float[1];
            Score(features, output);
            return output[0];
        }

        public void Score(in VBuffer<float> features, Span<float> output)
        {
            if (Interlocked.Exchange(ref _busy, 1) != 0)
            {
                _model.Evaluate(features, output, new RowScratch(_model));
                return;
            }

            try
            {
                _model.Evaluate(features, output, _scratch);
            }
            finally
            {
                Volatile.Write(ref _busy, 0);
            }
        }
    }

    /// <inheritdoc />
    public DynMoERoutingReport ComputeRouting(IDataView data, string featureColumnName = "Features", string? labelColumnName = null)
    {
        Host.CheckValue(data, nameof(data));
        var feature = data.Schema.GetColumnOrNull(featureColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(featureColumnName), $"Feature column '{featureColumnName}' was not found. Pass the column the model was trained on (after the same featurization).");
        DataViewSchema.Column? label = null;
        if (labelColumnName is not null)
        {
            label = data.Schema.GetColumnOrNull(labelColumnName)
                ?? throw new ArgumentOutOfRangeException(nameof(labelColumnName), $"Label column '{labelColumnName}' was not found. Pass an existing column or null.");
        }

        var overall = new RoutingTally(Network);
        var byLabel = new SortedDictionary<string, RoutingTally>(StringComparer.Ordinal);
        var columns = label is DataViewSchema.Column l ? new[] { feature, l } : new[] { feature };
        using var cursor = data.GetRowCursor(columns);
        var featureGetter = cursor.GetGetter<VBuffer<float>>(feature);
        var labelText = label is DataViewSchema.Column lc ? LabelText.CreateGetter(cursor, lc) : null;
        var buffer = default(VBuffer<float>);
        var row = RoutingTally.CreateRowBuffers(Network);
        var scratch = new RowScratch(this);
        var output = new float[Network.OutputDimension];
        while (cursor.MoveNext())
        {
            featureGetter(ref buffer);
            if (buffer.Length != FeatureCount)
                throw Host.Except($"Feature column '{featureColumnName}' has {buffer.Length} values, but the model was trained on {FeatureCount}.");
            row.Clear();
            Evaluate(buffer, output, scratch, row.Activated, row.ExpertLoad);
            overall.Count(row);
            if (labelText is not null)
            {
                string key = labelText();
                if (!byLabel.TryGetValue(key, out var group))
                    byLabel[key] = group = new RoutingTally(Network);
                group.Count(row);
            }
        }
        return new DynMoERoutingReport(overall.ToSummary(Routing), byLabel.ToDictionary(p => p.Key, p => p.Value.ToSummary(Routing)));
    }

    private sealed class RowScratch
    {
        public RowScratch(DynMoEModelParameters<TOutput> model)
        {
            Raw = new float[model.FeatureCount];
            Standardized = new float[model.FeatureCount];
            Network = model.Network.CreateScratch();
        }

        public float[] Raw { get; }
        public float[] Standardized { get; }
        public CompiledMoEMlp.Scratch Network { get; }
    }
}
