# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The second front door: an Azure Resource Manager endpoint over HTTPS (design.md, "Azure endpoint").

A thin WSGI application (``app``) served by cheroot (``server``). Each route parses a request, calls
one action in one store transaction, and answers in Azure's REST shape. Nothing here imports Ansible.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""
