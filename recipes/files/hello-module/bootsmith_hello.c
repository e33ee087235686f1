// SPDX-License-Identifier: GPL-2.0
// The smallest out-of-tree module: built by bootsmith against the image's kernel headers
// (kernelModules.build in recipes/debian-12-dkms.yaml); it only says hello when loaded.
#include <linux/init.h>
#include <linux/module.h>

static int __init bootsmith_hello_init(void)
{
	pr_info("bootsmith_hello: loaded\n");
	return 0;
}

static void __exit bootsmith_hello_exit(void)
{
}

module_init(bootsmith_hello_init);
module_exit(bootsmith_hello_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("bootsmith example out-of-tree module");
