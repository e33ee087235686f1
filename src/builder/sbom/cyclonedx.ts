// sbom.cdx.json: CycloneDX 1.6 through @cyclonedx/cyclonedx-library (the CycloneDX project's own
// JavaScript library: its models and JSON serializer follow the spec, we do not hand-roll it).
// Its sub-paths, not the root: the root also loads the validators and their JSON-schema and XML
// plug-ins (about twice the modules), which writing a BOM never uses.
import * as License from "@cyclonedx/cyclonedx-library/Contrib/License";
import * as Enums from "@cyclonedx/cyclonedx-library/Enums";
import * as Models from "@cyclonedx/cyclonedx-library/Models";
import * as Serialize from "@cyclonedx/cyclonedx-library/Serialize";
import * as Spec from "@cyclonedx/cyclonedx-library/Spec";
import { unlistedText } from "./image-contents.js";
import { kernelPackage, validateSpdxExpression, type SbomInput } from "./input.js";

export const CYCLONEDX_SPEC_VERSION = "1.6";

export function cycloneDxJson(input: SbomInput): string {
  const licenses = new License.Factories.LicenseFactory(validateSpdxExpression);
  const bom = new Models.Bom({ serialNumber: `urn:uuid:${input.uuid}` });
  bom.metadata.timestamp = input.created;
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, "bootsmith", { version: input.toolVersion }));
  const image = new Models.Component(Enums.ComponentType.OperatingSystem, input.name, {
    version: input.version,
    bomRef: `image:${input.name}@${input.version}`,
  });
  bom.metadata.component = image;
  const packageComponents = new Map<object, Models.Component>();
  for (const p of input.packages) {
    const component = new Models.Component(Enums.ComponentType.Library, p.name, {
      version: p.fullVersion,
      bomRef: p.purl ?? `${p.name}@${p.fullVersion}.${p.arch}`,
      ...(p.purl ? { purl: p.purl } : {}),
      ...(p.supplier ? { supplier: new Models.OrganizationalEntity({ name: p.supplier }) } : {}),
    });
    if (p.license) component.licenses.add(licenses.makeFromString(p.license));
    bom.components.add(component);
    image.dependencies.add(component.bomRef);
    packageComponents.set(p, component);
  }
  for (const m of input.contents.modules) {
    // A kernel module is a device driver (CycloneDX 1.6 component type); it depends on the kernel it was built for.
    const component = new Models.Component(Enums.ComponentType.DeviceDriver, m.name, {
      ...(m.version ? { version: m.version } : {}),
      bomRef: `kernel-module:${m.path}`,
      description: m.origin,
    });
    component.hashes.set(Enums.HashAlgorithm["SHA-256"], m.sha256);
    if (m.license) component.licenses.add(licenses.makeFromString(m.license));
    component.properties.add(new Models.Property("bootsmith:kernel-module:path", m.path));
    component.properties.add(new Models.Property("bootsmith:kernel-module:kernel", m.kernel));
    if (m.vermagic) component.properties.add(new Models.Property("bootsmith:kernel-module:vermagic", m.vermagic));
    const kernel = packageComponents.get(kernelPackage(input, m.kernel) ?? {});
    if (kernel) component.dependencies.add(kernel.bomRef);
    bom.components.add(component);
    image.dependencies.add(component.bomRef);
  }
  for (const f of input.contents.files) {
    const component = new Models.Component(Enums.ComponentType.File, f.path, { bomRef: `file:${f.path}`, description: f.origin });
    component.hashes.set(Enums.HashAlgorithm["SHA-1"], f.sha1);
    component.hashes.set(Enums.HashAlgorithm["SHA-256"], f.sha256);
    bom.components.add(component);
    image.dependencies.add(component.bomRef);
  }
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  const json = JSON.parse(serializer.serialize(bom, { sortLists: true })) as Record<string, unknown>;
  if (input.contents.unlisted.length > 0) {
    // Steps changed the image in ways no list records: the image's composition is incomplete
    // (CycloneDX compositions), and an annotation by the tool names the steps. The library has
    // no model for either, so they are added to its output; the tests check it against the schema.
    json.compositions = [{ aggregate: "incomplete", assemblies: [image.bomRef.value] }];
    json.annotations = [
      {
        subjects: [image.bomRef.value],
        annotator: { component: { type: "application", name: "bootsmith", version: input.toolVersion } },
        timestamp: input.created.toISOString(),
        text: unlistedText(input.contents.unlisted),
      },
    ];
  }
  return `${JSON.stringify(json, null, 2)}\n`;
}
