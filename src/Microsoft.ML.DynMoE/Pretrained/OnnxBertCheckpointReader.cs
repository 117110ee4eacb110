using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.ML.DynMoE.Onnx.Proto;

namespace Microsoft.ML.DynMoE.Pretrained;

/// <summary>
/// Reads the parameters of a BERT-family encoder from an ONNX export (as PyTorch writes it). Embeddings, biases and
/// LayerNorms are initializers named after the PyTorch parameters; the linear layers' weight matrices are not: they
/// are anonymous MatMul operands stored <c>[in, out]</c>. Each is named by one step through the graph: it is the
/// second input of a MatMul whose output feeds an Add with a named bias, and it takes that bias's name
/// (<c>.bias</c> → <c>.weight</c>) and is transposed to PyTorch's <c>[out, in]</c>.
/// </summary>
internal static class OnnxBertCheckpointReader
{
    private const int DefaultHeadDimension = 64;

    /// <summary>Reads the ONNX file at <paramref name="path"/>.</summary>
    public static BertCheckpoint Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        return Read(stream);
    }

    /// <summary>Reads an ONNX model from <paramref name="stream"/>.</summary>
    /// <exception cref="InvalidDataException">The model is not a BERT-family encoder this reader understands.</exception>
    public static BertCheckpoint Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException("The stream is not an ONNX model.", ex);
        }

        return Read(model.Graph ?? throw new InvalidDataException("The ONNX model has no graph."));
    }

    /// <summary>Maps the initializers of <paramref name="graph"/> to BERT parameter names.</summary>
    public static BertCheckpoint Read(GraphProto graph)
    {
        var initializers = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        foreach (var tensor in graph.Initializer) initializers[tensor.Name] = tensor;

        var consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        var producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            foreach (var input in node.Input)
            {
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = new List<NodeProto>();
                list.Add(node);
            }

            foreach (var output in node.Output) producers[output] = node;
        }

        var tensors = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in initializers)
        {
            string? parameter = ParameterName(name);
            // Float parameters only: exports also carry integer buffers such as embeddings.position_ids.
            if (parameter is not null && tensor.Dims.Count > 0 && tensor.DataType == (int)TensorProto.Types.DataType.Float)
                tensors[parameter] = ToFloat(tensor);
        }

        foreach (var matMul in graph.Node.Where(n => n.OpType == "MatMul" && n.Input.Count == 2))
        {
            if (!initializers.TryGetValue(matMul.Input[1], out var weight) || weight.Dims.Count != 2) continue;
            string? biasName = consumers.TryGetValue(matMul.Output[0], out var users)
                ? users.Where(u => u.OpType == "Add")
                    .SelectMany(u => u.Input)
                    .Select(ParameterName)
                    .FirstOrDefault(n => n is not null && n.EndsWith(".bias", StringComparison.Ordinal))
                : null;
            if (biasName is null) continue;
            string weightName = biasName[..^".bias".Length] + ".weight";
            tensors[weightName] = ToFloat(weight).Transpose();
        }

        var configuration = InferConfiguration(tensors, HeadDimension(graph, initializers, producers));
        RequireParameters(tensors, configuration);
        return new BertCheckpoint(configuration, tensors);
    }

    /// <summary>The BERT names every block needs, relative to <c>encoder.layer.N.</c>.</summary>
    internal static readonly string[] BlockParameters =
    {
        "attention.self.query.weight", "attention.self.query.bias",
        "attention.self.key.weight", "attention.self.key.bias",
        "attention.self.value.weight", "attention.self.value.bias",
        "attention.output.dense.weight", "attention.output.dense.bias",
        "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
        "intermediate.dense.weight", "intermediate.dense.bias",
        "output.dense.weight", "output.dense.bias",
        "output.LayerNorm.weight", "output.LayerNorm.bias",
    };

    /// <summary>The embedding parameters.</summary>
    internal static readonly string[] EmbeddingParameters =
    {
        "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
        "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
    };

    /// <summary>The BERT parameter name of an initializer (any prefix such as <c>bert.</c> dropped), or null.</summary>
    private static string? ParameterName(string initializer)
    {
        foreach (string root in new[] { "embeddings.", "encoder.layer." })
        {
            int at = initializer.IndexOf(root, StringComparison.Ordinal);
            if (at == 0 || (at > 0 && initializer[at - 1] == '.')) return initializer[at..];
        }

        return null;
    }

    private static BertConfiguration InferConfiguration(Dictionary<string, CheckpointTensor> tensors, int? headDimension)
    {
        CheckpointTensor Get(string name) => tensors.TryGetValue(name, out var t)
            ? t
            : throw new InvalidDataException($"The ONNX model has no initializer for the BERT parameter '{name}'.");

        var words = Get("embeddings.word_embeddings.weight");
        int width = (int)words.Shape[1];
        int layers = 0;
        while (tensors.ContainsKey(BertCheckpoint.BlockParameter(layers, "output.LayerNorm.weight"))) layers++;
        if (layers == 0) throw new InvalidDataException("The ONNX model has no encoder block (no 'encoder.layer.0.output.LayerNorm.weight').");
        int head = headDimension is int h && h > 0 && width % h == 0 ? h : DefaultHeadDimension;
        var configuration = new BertConfiguration
        {
            Layers = layers,
            ModelDimension = width,
            Heads = width % head == 0 ? width / head : 1,
            IntermediateDimension = (int)Get(BertCheckpoint.BlockParameter(0, "intermediate.dense.bias")).Shape[0],
            VocabularySize = (int)words.Shape[0],
            MaximumPositions = (int)Get("embeddings.position_embeddings.weight").Shape[0],
            TypeVocabularySize = (int)Get("embeddings.token_type_embeddings.weight").Shape[0],
        };
        configuration.Validate();
        return configuration;
    }

    private static void RequireParameters(Dictionary<string, CheckpointTensor> tensors, BertConfiguration configuration)
    {
        var missing = EmbeddingParameters
            .Concat(Enumerable.Range(0, configuration.Layers).SelectMany(l => BlockParameters.Select(p => BertCheckpoint.BlockParameter(l, p))))
            .Where(n => !tensors.ContainsKey(n))
            .ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"The ONNX model lacks {missing.Count} BERT parameter(s), e.g. '{missing[0]}' (linear weights are found as MatMul operands followed by an Add of the named bias).");

        int d = configuration.ModelDimension, h = configuration.IntermediateDimension;
        for (int l = 0; l < configuration.Layers; l++)
        {
            RequireShape(tensors, BertCheckpoint.BlockParameter(l, "attention.self.query.weight"), d, d);
            RequireShape(tensors, BertCheckpoint.BlockParameter(l, "intermediate.dense.weight"), h, d);
            RequireShape(tensors, BertCheckpoint.BlockParameter(l, "output.dense.weight"), d, h);
        }
    }

    private static void RequireShape(Dictionary<string, CheckpointTensor> tensors, string name, params long[] shape)
    {
        if (!tensors[name].Shape.SequenceEqual(shape))
            throw new InvalidDataException($"'{name}' has shape [{string.Join(", ", tensors[name].Shape)}], expected [{string.Join(", ", shape)}].");
    }

    /// <summary>
    /// The attention head width the graph scales the logits by: a Div by √d_h (or Mul by 1/√d_h) applied to the
    /// output of a MatMul of two computed tensors (Q Kᵀ). Null when the graph has no such node.
    /// </summary>
    private static int? HeadDimension(GraphProto graph, Dictionary<string, TensorProto> initializers, Dictionary<string, NodeProto> producers)
    {
        foreach (var node in graph.Node.Where(n => (n.OpType == "Div" || n.OpType == "Mul") && n.Input.Count == 2))
        {
            if (!producers.TryGetValue(node.Input[0], out var source) || source.OpType != "MatMul"
                || source.Input.Any(initializers.ContainsKey))
                continue;
            float? constant = ScalarConstant(node.Input[1], initializers, producers);
            if (constant is not float c || !(c > 0)) continue;
            double squared = node.OpType == "Div" ? (double)c * c : 1.0 / ((double)c * c);
            int rounded = (int)Math.Round(squared);
            if (rounded > 0 && Math.Abs(squared - rounded) < 1e-3 * rounded) return rounded;
        }

        return null;
    }

    private static float? ScalarConstant(string name, Dictionary<string, TensorProto> initializers, Dictionary<string, NodeProto> producers)
    {
        TensorProto? tensor = null;
        if (initializers.TryGetValue(name, out var initializer))
            tensor = initializer;
        else if (producers.TryGetValue(name, out var node) && node.OpType == "Constant")
            tensor = node.Attribute.FirstOrDefault(a => a.Name == "value")?.T;
        if (tensor is null || tensor.DataType != (int)TensorProto.Types.DataType.Float) return null;
        var values = ToFloat(tensor).Values;
        return values.Length == 1 ? values[0] : null;
    }

    private static CheckpointTensor ToFloat(TensorProto tensor)
    {
        if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
            throw new InvalidDataException($"Initializer '{tensor.Name}' is not float32 (data type {tensor.DataType}).");
        long[] shape = tensor.Dims.ToArray();
        float[] values;
        if (!tensor.RawData.IsEmpty)
        {
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Reading ONNX raw tensor data needs a little-endian machine.");
            values = MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray();
        }
        else
        {
            values = tensor.FloatData.ToArray();
        }

        return new CheckpointTensor(shape, values);
    }
}
