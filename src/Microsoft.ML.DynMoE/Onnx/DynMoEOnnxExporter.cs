using System.Text.Json;
using Google.Protobuf;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Onnx.Proto;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.Model.OnnxConverter;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms;

namespace Microsoft.ML.DynMoE.Onnx;

/// <summary>
/// Writes a trained tabular DynMoE prediction transformer as an ONNX model (opset 17): one float input [N, F] named
/// after the features column, and the ML.NET scorer's columns as outputs — binary <c>Score</c> (logit),
/// <c>Probability</c>, <c>PredictedLabel</c> (Boolean); multiclass <c>Score</c> (class probabilities) and
/// <c>PredictedLabel</c> (UInt32, the 1-based key index ML.NET gives); regression <c>Score</c>. Every output is [N, 1]
/// except the multiclass score [N, C]. The model's own nodes come from its ML.NET ONNX-save implementation.
/// </summary>
internal static class DynMoEOnnxExporter
{
    public static void Export(IHostEnvironment env, ITransformer model, IDataView inputData, Stream stream, int opSetVersion = DynMoEOnnxContext.DefaultOpSetVersion)
    {
        Contracts.CheckValue(env, nameof(env));
        var host = env.Register("DynMoEOnnxExport");
        host.CheckValue(model, nameof(model));
        host.CheckValue(inputData, nameof(inputData));
        host.CheckValue(stream, nameof(stream));
        if (!stream.CanWrite)
            throw new ArgumentException("The stream must be writable.", nameof(stream));

        var (predictor, labelValues) = FindPredictor(model);
        var modelProto = Build(predictor, inputData.Schema, opSetVersion, labelValues);
        modelProto.WriteTo(stream);
    }

    /// <summary>The DynMoE prediction transformer of <paramref name="model"/>, checking every other step is one the export can leave out.</summary>
    private static (ISingleFeaturePredictionTransformer<object> Predictor, bool LabelValues) FindPredictor(ITransformer model)
    {
        var steps = Flatten(model).ToList();
        int index = steps.FindLastIndex(IsDynMoE);
        if (index < 0)
        {
            var encoder = steps.OfType<DynMoEEncoderTransformer>().FirstOrDefault();
            if (encoder is not null)
                throw new NotSupportedException(
                    "ONNX export of the DynMoE text and image (Transformer-encoder) classifiers is not supported yet; only the tabular " +
                    "DynMoE trainers (binary, multiclass, regression on a Features vector) can be exported.");
            throw new ArgumentException(
                $"The model has no trained tabular DynMoE prediction transformer (its steps: {string.Join(", ", steps.Select(Describe))}). " +
                "Pass the transformer returned by a DynMoE trainer's Fit, or a chain that ends with it.", nameof(model));
        }

        var predictor = (ISingleFeaturePredictionTransformer<object>)steps[index];
        bool labelValues = false;
        for (int i = 0; i < steps.Count; i++)
        {
            if (i == index)
                continue;
            // A key mapping of a column other than the features (the training label) does not feed the scorer.
            bool labelOnly = i < index && steps[i] is ValueToKeyMappingTransformer keys
                && keys.ColumnPairs.All(c => c.outputColumnName != predictor.FeatureColumnName);
            // MapKeyToValue("PredictedLabel") right after a multiclass DynMoE: the graph maps the key back to the class value.
            bool backToValues = i == index + 1 && predictor is MulticlassPredictionTransformer<DynMoEMulticlassModelParameters>
                && steps[i] is KeyToValueMappingTransformer values
                && values.ColumnPairs.Length == 1 && values.ColumnPairs[0] == (DefaultColumnNames.PredictedLabel, DefaultColumnNames.PredictedLabel);
            labelValues |= backToValues;
            if (!labelOnly && !backToValues)
                throw new NotSupportedException(
                    $"The pipeline step {Describe(steps[i])} cannot be exported to ONNX by ConvertDynMoEToOnnx. Export the trained DynMoE " +
                    "transformer alone (the trainer's Fit result, or the chain's LastTransformer) and run the other steps before and after ONNX Runtime.");
        }
        return (predictor, labelValues);
    }

    private static bool IsDynMoE(ITransformer step)
        => step is ISingleFeaturePredictionTransformer<object> p && p.Model is IDynMoEModelParameters;

    private static IEnumerable<ITransformer> Flatten(ITransformer model)
    {
        if (model is IEnumerable<ITransformer> chain)
            return chain.SelectMany(Flatten);
        return new[] { model };
    }

    private static string Describe(ITransformer step)
    {
        var type = step.GetType();
        string name = type.IsGenericType ? type.Name[..type.Name.IndexOf('`')] + "<" + string.Join(", ", type.GetGenericArguments().Select(t => t.Name)) + ">" : type.Name;
        return $"'{name}'";
    }

    private static ModelProto Build(ISingleFeaturePredictionTransformer<object> predictor, DataViewSchema inputSchema, int opSetVersion, bool labelValues)
    {
        string featureColumn = predictor.FeatureColumnName;
        var parameters = predictor.Model;
        int featureCount = parameters switch
        {
            DynMoEModelParameters<float> p => p.FeatureCount,
            DynMoEModelParameters<VBuffer<float>> p => p.FeatureCount,
            _ => throw new InvalidOperationException("Unexpected DynMoE model parameters."),
        };
        var column = inputSchema.GetColumnOrNull(featureColumn)
            ?? throw new ArgumentOutOfRangeException("inputData", $"Feature column '{featureColumn}' was not found in the input data. Pass data with the column the model was trained on (after the same featurization).");
        if (column.Type is not VectorDataViewType { ItemType: NumberDataViewType n, Size: var size } || n != NumberDataViewType.Single || size != featureCount)
            throw new ArgumentOutOfRangeException("inputData", $"Feature column '{featureColumn}' must be a vector of {featureCount} Single values, as in training, but it is {column.Type}.");

        var ctx = new DynMoEOnnxContext(opSetVersion);
        string features = ctx.AddInput(featureColumn, TensorProto.Types.DataType.Float, featureCount);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var network = parameters switch
        {
            DynMoEModelParameters<float> p => p.Network,
            DynMoEModelParameters<VBuffer<float>> p => p.Network,
            _ => null!,
        };
        metadata["dynmoe.feature_column"] = featureColumn;
        metadata["dynmoe.feature_count"] = featureCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        metadata["dynmoe.gating"] = string.Join(",", Enumerable.Range(0, network.LayerCount).Select(i => network.GetBlock(i).Gating.ToString()));
        metadata["dynmoe.active_experts"] = string.Join(",", Enumerable.Range(0, network.LayerCount).Select(i =>
        {
            var block = network.GetBlock(i);
            return (block.Gating == GatingKind.Dense ? 1 : block.Mask.ToArray().Count(m => m > 0f)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }));

        switch (predictor)
        {
            case BinaryPredictionTransformer<DynMoEBinaryModelParameters> binary:
            {
                metadata["dynmoe.task"] = "BinaryClassification";
                string score = ctx.AddIntermediateVariable(NumberDataViewType.Single, DefaultColumnNames.Score);
                string probability = ctx.AddIntermediateVariable(NumberDataViewType.Single, DefaultColumnNames.Probability);
                ((IDistCanSaveOnnx)binary.Model).SaveAsOnnx(ctx, new[] { score, probability }, features);
                // ML.NET's binary scorer: PredictedLabel = (threshold column) > threshold.
                string compared = binary.ThresholdColumn == DefaultColumnNames.Probability ? probability : score;
                string label = ctx.AddIntermediateVariable(BooleanDataViewType.Instance, DefaultColumnNames.PredictedLabel);
                ctx.CreateNode("Greater", new[] { compared, ctx.AddInitializer(new[] { binary.Threshold }, new long[] { 1 }, "DynMoE.Threshold") }, new[] { label }, ctx.GetNodeName("DynMoE.Threshold"), "");
                ctx.AddOutput(score, DefaultColumnNames.Score, TensorProto.Types.DataType.Float, 1);
                ctx.AddOutput(probability, DefaultColumnNames.Probability, TensorProto.Types.DataType.Float, 1);
                ctx.AddOutput(label, DefaultColumnNames.PredictedLabel, TensorProto.Types.DataType.Bool, 1);
                break;
            }
            case MulticlassPredictionTransformer<DynMoEMulticlassModelParameters> multiclass:
            {
                metadata["dynmoe.task"] = "MulticlassClassification";
                int classes = multiclass.Model.NumberOfClasses;
                string score = ctx.AddIntermediateVariable(new VectorDataViewType(NumberDataViewType.Single, classes), DefaultColumnNames.Score);
                ((ISingleCanSaveOnnx)multiclass.Model).SaveAsOnnx(ctx, new[] { score }, features);
                // ML.NET's multiclass scorer: the first class of highest score, as a 1-based key (0 is reserved for missing).
                string argMax = ctx.AddIntermediateVariable(null!, "DynMoE.ArgMax", true);
                var node = ctx.CreateNode("ArgMax", score, argMax, ctx.GetNodeName("DynMoE.ArgMax"), "");
                node.AddAttribute("axis", 1L);
                node.AddAttribute("keepdims", 1L);
                string oneBased = ctx.AddIntermediateVariable(null!, "DynMoE.KeyIndex", true);
                ctx.CreateNode("Add", new[] { argMax, ctx.AddInitializer(new[] { 1L }, new long[] { 1 }, "DynMoE.One") }, new[] { oneBased }, ctx.GetNodeName("DynMoE.KeyIndex"), "");
                ctx.AddOutput(score, DefaultColumnNames.Score, TensorProto.Types.DataType.Float, classes);
                var names = TryGetClassNames(multiclass, inputSchema, classes);
                if (names is not null)
                    metadata["dynmoe.class_names"] = JsonSerializer.Serialize(names);
                if (labelValues)
                {
                    // The pipeline's MapKeyToValue: index 0 (missing key) maps to the empty string, as ML.NET maps it.
                    if (names is null)
                        throw new NotSupportedException(
                            "MapKeyToValue(\"PredictedLabel\") after the DynMoE transformer can be exported only for text class names. Export the trained DynMoE transformer alone; its PredictedLabel is the 1-based class index.");
                    string table = ctx.AddInitializer(new[] { "" }.Concat(names), new long[] { classes + 1 }, "DynMoE.ClassNames");
                    string value = ctx.AddIntermediateVariable(TextDataViewType.Instance, DefaultColumnNames.PredictedLabel);
                    ctx.CreateNode("Gather", new[] { table, oneBased }, new[] { value }, ctx.GetNodeName("DynMoE.ClassNames"), "").AddAttribute("axis", 0L);
                    ctx.AddOutput(value, DefaultColumnNames.PredictedLabel, TensorProto.Types.DataType.String, 1);
                }
                else
                {
                    string label = ctx.AddIntermediateVariable(new KeyDataViewType(typeof(uint), classes), DefaultColumnNames.PredictedLabel);
                    ctx.CreateNode("Cast", oneBased, label, ctx.GetNodeName("DynMoE.Cast"), "").AddAttribute("to", (long)TensorProto.Types.DataType.Uint32);
                    ctx.AddOutput(label, DefaultColumnNames.PredictedLabel, TensorProto.Types.DataType.Uint32, 1);
                }
                break;
            }
            case RegressionPredictionTransformer<DynMoERegressionModelParameters> regression:
            {
                metadata["dynmoe.task"] = "Regression";
                string score = ctx.AddIntermediateVariable(NumberDataViewType.Single, DefaultColumnNames.Score);
                ((ISingleCanSaveOnnx)regression.Model).SaveAsOnnx(ctx, new[] { score }, features);
                ctx.AddOutput(score, DefaultColumnNames.Score, TensorProto.Types.DataType.Float, 1);
                break;
            }
            default:
                throw new NotSupportedException($"The DynMoE prediction transformer {predictor.GetType().Name} cannot be exported to ONNX.");
        }

        return ctx.ToModel(metadata,
            $"DynMoE {metadata["dynmoe.task"]} model exported from ML.NET. Input '{featureColumn}': float [N, {featureCount}] raw features (the graph standardises them).");
    }

    /// <summary>The class names (key values) of the multiclass score, in score order, when the training label carried them.</summary>
    private static string[]? TryGetClassNames(MulticlassPredictionTransformer<DynMoEMulticlassModelParameters> transformer, DataViewSchema inputSchema, int classes)
    {
        try
        {
            var score = transformer.GetOutputSchema(inputSchema).GetColumnOrNull(DefaultColumnNames.Score);
            if (score is not DataViewSchema.Column column || column.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.SlotNames) is null)
                return null;
            var names = default(VBuffer<ReadOnlyMemory<char>>);
            column.GetSlotNames(ref names);
            var values = names.DenseValues().Select(v => v.ToString()).ToArray();
            return values.Length == classes ? values : null;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            return null; // metadata only: a label without names still exports
        }
    }
}
